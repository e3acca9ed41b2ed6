package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// status, wait, logs, stop and list for processing jobs (launcher prepare --image). A
// name that is not a training job is looked up as a processing job, so the commands take
// either kind without a flag.

// processingLogGroup is where SageMaker writes processing job logs, one stream per host
// named "<job>/algo-<n>-<epoch>" like training's.
const processingLogGroup = "/aws/sagemaker/ProcessingJobs"

// errNoProcessingJob marks a name that is no processing job either.
var errNoProcessingJob = errors.New("and no processing job of that name")

// notFound reports whether err is the service's "no such job" answer.
func notFound(err error) bool {
	switch apiErrorCode(err) {
	case "ResourceNotFound":
		return true
	case "ValidationException":
		msg := err.Error()
		return strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist") || strings.Contains(msg, "Could not find")
	}
	return false
}

func processingTerminal(s types.ProcessingJobStatus) bool {
	return s == types.ProcessingJobStatusCompleted || s == types.ProcessingJobStatusFailed || s == types.ProcessingJobStatusStopped
}

// describeProcessing describes a processing job. noTraining is the error that sent the
// command here (no training job of that name); when there is no processing job either,
// it is returned with errNoProcessingJob.
func (e *Env) describeProcessing(ctx context.Context, c *Clients, name string, noTraining error) (*sagemaker.DescribeProcessingJobOutput, error) {
	var out *sagemaker.DescribeProcessingJobOutput
	err := e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = c.SageMaker.DescribeProcessingJob(ctx, &sagemaker.DescribeProcessingJobInput{ProcessingJobName: aws.String(name)})
		return err
	})
	if notFound(err) || apiErrorCode(err) == "UnknownOperationException" {
		if noTraining == nil {
			return nil, fmt.Errorf("describe processing job %s: %w", name, err)
		}
		return nil, fmt.Errorf("%w (%w)", noTraining, errNoProcessingJob)
	}
	if err != nil {
		return nil, fmt.Errorf("describe processing job %s: %w", name, err)
	}
	return out, nil
}

// followProcessing polls a processing job until it ends, printing each status change
// and, with withLogs, its log lines.
func (e *Env) followProcessing(ctx context.Context, c *Clients, name string, withLogs bool, noTraining error) (*sagemaker.DescribeProcessingJobOutput, error) {
	var tail *logTail
	interval := e.pollInterval()
	if withLogs {
		tail = e.newLogTail(c.Logs, name)
		tail.group = processingLogGroup
		interval = e.logPoll()
	}
	last := types.ProcessingJobStatus("")
	for {
		out, err := e.describeProcessing(ctx, c, name, noTraining)
		if err != nil {
			return nil, err
		}
		if out.ProcessingJobStatus != last {
			last = out.ProcessingJobStatus
			fmt.Fprintf(e.Stderr, "%s  %s\n", fmtTime(out.LastModifiedTime), last)
		}
		if tail != nil {
			if err := tail.poll(ctx); err != nil {
				fmt.Fprintf(e.Stderr, "logs: %v\n", err)
			}
		}
		if processingTerminal(out.ProcessingJobStatus) {
			return out, nil
		}
		if err := e.Sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

// writeProcessingSummary prints the state of a processing job and, once it completed,
// the channels its prepared dataset gives train, sweep and tune.
func writeProcessingSummary(w io.Writer, out *sagemaker.DescribeProcessingJobOutput) {
	fmt.Fprintf(w, "job       %s (processing)\n", aws.ToString(out.ProcessingJobName))
	fmt.Fprintf(w, "status    %s\n", out.ProcessingJobStatus)
	if out.FailureReason != nil {
		fmt.Fprintf(w, "reason    %s\n", oneLine(aws.ToString(out.FailureReason)))
	}
	if out.ExitMessage != nil {
		fmt.Fprintf(w, "message   %s\n", oneLine(aws.ToString(out.ExitMessage)))
	}
	if out.ProcessingStartTime != nil && out.ProcessingEndTime != nil {
		fmt.Fprintf(w, "ran       %s\n", out.ProcessingEndTime.Sub(*out.ProcessingStartTime).Round(1e9))
	}
	if out.ProcessingOutputConfig == nil {
		return
	}
	for _, o := range out.ProcessingOutputConfig.Outputs {
		if o.S3Output == nil {
			continue
		}
		uri := strings.TrimRight(aws.ToString(o.S3Output.S3Uri), "/")
		fmt.Fprintf(w, "output    %s\n", uri)
		if out.ProcessingJobStatus == types.ProcessingJobStatusCompleted {
			var ch []string
			for _, name := range channelNames {
				ch = append(ch, fmt.Sprintf("--%s %s/%s/", name, uri, name))
			}
			fmt.Fprintf(w, "channels  %s\n", strings.Join(ch, " "))
		}
	}
}

// processingResult is jobResult for processing jobs: nil, exit 3 (Failed) or 4 (Stopped).
func processingResult(out *sagemaker.DescribeProcessingJobOutput) error {
	name := aws.ToString(out.ProcessingJobName)
	switch out.ProcessingJobStatus {
	case types.ProcessingJobStatusCompleted:
		return nil
	case types.ProcessingJobStatusFailed:
		reason := oneLine(aws.ToString(out.FailureReason))
		if m := oneLine(aws.ToString(out.ExitMessage)); m != "" {
			reason += ": " + m
		}
		return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("processing job %s failed: %s", name, reason)}
	default:
		return &ExitError{Code: ExitStopped, Err: fmt.Errorf("processing job %s stopped", name)}
	}
}

// processingStatus is `launcher status` for a processing job.
func (e *Env) processingStatus(ctx context.Context, c *Clients, name string, noTraining error) error {
	out, err := e.describeProcessing(ctx, c, name, noTraining)
	if err != nil {
		return err
	}
	writeProcessingSummary(e.Stdout, out)
	if out.AppSpecification != nil {
		fmt.Fprintf(e.Stdout, "image     %s\n", aws.ToString(out.AppSpecification.ImageUri))
		fmt.Fprintf(e.Stdout, "arguments %s\n", strings.Join(out.AppSpecification.ContainerArguments, " "))
	}
	return nil
}

// processingWait is `launcher wait` for a processing job.
func (e *Env) processingWait(ctx context.Context, c *Clients, name string, withLogs bool, noTraining error) error {
	out, err := e.followProcessing(ctx, c, name, withLogs, noTraining)
	if err != nil {
		return err
	}
	writeProcessingSummary(e.Stdout, out)
	return processingResult(out)
}

// processingLogs is `launcher logs` for a processing job.
func (e *Env) processingLogs(ctx context.Context, c *Clients, name string, follow bool, noTraining error) error {
	out, err := e.describeProcessing(ctx, c, name, noTraining)
	if err != nil {
		return err
	}
	tail := e.newLogTail(c.Logs, name)
	tail.group = processingLogGroup
	return e.printLogs(ctx, tail, follow, string(out.ProcessingJobStatus), processingTerminal(out.ProcessingJobStatus),
		func() (string, bool, error) {
			out, err := e.describeProcessing(ctx, c, name, noTraining)
			if err != nil {
				return "", false, err
			}
			return string(out.ProcessingJobStatus), processingTerminal(out.ProcessingJobStatus), nil
		})
}

// stopProcessing is `launcher stop` for a name that is not a training job (noTraining
// is that answer, returned when there is no processing job either).
func stopProcessing(ctx context.Context, e *Env, sm *sagemaker.Client, name string, noTraining error) error {
	err := e.newBackoff().do(ctx, name, func() error {
		_, err := sm.StopProcessingJob(ctx, &sagemaker.StopProcessingJobInput{ProcessingJobName: aws.String(name)})
		return err
	})
	if notFound(err) || apiErrorCode(err) == "UnknownOperationException" {
		return fmt.Errorf("%w (%w)", noTraining, errNoProcessingJob)
	}
	return err
}

// listProcessing is `launcher list --processing`: newest first.
func (e *Env) listProcessing(ctx context.Context, c *Clients, status string, limit int) error {
	in := &sagemaker.ListProcessingJobsInput{SortBy: types.SortByCreationTime, SortOrder: types.SortOrderDescending, MaxResults: aws.Int32(100)}
	if status != "" {
		in.StatusEquals = types.ProcessingJobStatus(status)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tCREATED\tENDED")
	n := 0
	p := sagemaker.NewListProcessingJobsPaginator(c.SageMaker, in)
	for p.HasMorePages() && n < limit {
		var page *sagemaker.ListProcessingJobsOutput
		err := e.newBackoff().do(ctx, "list", func() error {
			var err error
			page, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("list processing jobs: %w", err)
		}
		for _, s := range page.ProcessingJobSummaries {
			if n >= limit {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(s.ProcessingJobName), s.ProcessingJobStatus, fmtTime(s.CreationTime), fmtTime(s.ProcessingEndTime))
			n++
		}
	}
	return tw.Flush()
}
