package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

func terminal(s types.TrainingJobStatus) bool {
	return s == types.TrainingJobStatusCompleted || s == types.TrainingJobStatusFailed || s == types.TrainingJobStatusStopped
}

func (e *Env) describeJob(ctx context.Context, c *Clients, name string) (*sagemaker.DescribeTrainingJobOutput, error) {
	var out *sagemaker.DescribeTrainingJobOutput
	err := e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = c.SageMaker.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
		return err
	})
	if err != nil {
		// the service reports a missing job as a ValidationException
		if apiErrorCode(err) == "ValidationException" && strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("describe training job %s: %w in region %s", name, errNoJob, c.SageMaker.Options().Region)
		}
		return nil, fmt.Errorf("describe training job %s: %w", name, err)
	}
	return out, nil
}

// errNoJob marks DescribeTrainingJob's "Requested resource not found".
var errNoJob = errors.New("no such training job")

// follow polls a training job until it ends, printing each secondary status
// change and, with withLogs, the job's log lines as they arrive.
func (e *Env) follow(ctx context.Context, c *Clients, name string, withLogs bool) (*sagemaker.DescribeTrainingJobOutput, error) {
	seen := 0
	var tail *logTail
	interval := e.pollInterval()
	if withLogs {
		tail = e.newLogTail(c.Logs, name)
		interval = e.logPoll()
	}
	for {
		out, err := e.describeJob(ctx, c, name)
		if err != nil {
			return nil, err
		}
		for _, t := range out.SecondaryStatusTransitions[min(seen, len(out.SecondaryStatusTransitions)):] {
			fmt.Fprintf(e.Stderr, "%s  %-12s %s\n", fmtTime(t.StartTime), t.Status, aws.ToString(t.StatusMessage))
		}
		seen = max(seen, len(out.SecondaryStatusTransitions))
		if tail != nil {
			if err := tail.poll(ctx); err != nil {
				fmt.Fprintf(e.Stderr, "logs: %v\n", err)
			}
		}
		if terminal(out.TrainingJobStatus) {
			return out, nil
		}
		if err := e.Sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// writeSummary prints the end state of a training job.
func writeSummary(w io.Writer, out *sagemaker.DescribeTrainingJobOutput) {
	fmt.Fprintf(w, "job       %s\n", aws.ToString(out.TrainingJobName))
	fmt.Fprintf(w, "status    %s (%s)\n", out.TrainingJobStatus, out.SecondaryStatus)
	if out.FailureReason != nil {
		fmt.Fprintf(w, "reason    %s\n", oneLine(aws.ToString(out.FailureReason)))
	}
	if out.BillableTimeInSeconds != nil {
		fmt.Fprintf(w, "billable  %d s\n", *out.BillableTimeInSeconds)
	}
	if out.ModelArtifacts != nil && aws.ToString(out.ModelArtifacts.S3ModelArtifacts) != "" {
		fmt.Fprintf(w, "model     %s\n", aws.ToString(out.ModelArtifacts.S3ModelArtifacts))
	}
	if m := metricsText(out.FinalMetricDataList); m != "" {
		fmt.Fprintf(w, "metrics   %s\n", m)
	}
}

func metricsText(ms []types.MetricData) string {
	var parts []string
	for _, m := range ms {
		if m.Value != nil {
			parts = append(parts, fmt.Sprintf("%s=%g", aws.ToString(m.MetricName), *m.Value))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// jobResult turns a terminal status into the command's error: nil for
// Completed, exit code 3 for Failed and 4 for Stopped.
func jobResult(out *sagemaker.DescribeTrainingJobOutput) error {
	name := aws.ToString(out.TrainingJobName)
	switch out.TrainingJobStatus {
	case types.TrainingJobStatusCompleted:
		return nil
	case types.TrainingJobStatusFailed:
		return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("training job %s failed: %s", name, oneLine(aws.ToString(out.FailureReason)))}
	default:
		return &ExitError{Code: ExitStopped, Err: fmt.Errorf("training job %s stopped (%s)", name, out.SecondaryStatus)}
	}
}
