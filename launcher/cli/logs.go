package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// trainingLogGroup is where SageMaker writes training job logs; each host
// writes a stream named "<job>/algo-<n>-<epoch>".
const trainingLogGroup = "/aws/sagemaker/TrainingJobs"

type logsCmd struct {
	e      *Env
	follow bool
}

func newLogs(e *Env, fs *flag.FlagSet) unit {
	c := &logsCmd{e: e}
	fs.BoolVar(&c.follow, "follow", false, "keep printing new lines until the job ends")
	return c
}

func (c *logsCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("usage: launcher logs JOB_NAME [--follow]")
	}
	if err := checkName("job name", args[0], false); err != nil {
		return err
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	// A name with no job behind it is an error, not a job without log lines yet.
	out, err := c.e.describeJob(ctx, cl, args[0])
	if errors.Is(err, errNoJob) {
		return c.e.processingLogs(ctx, cl, args[0], c.follow, err)
	}
	if err != nil {
		return err
	}
	return c.e.printLogs(ctx, c.e.newLogTail(cl.Logs, args[0]), c.follow, string(out.SecondaryStatus), terminal(out.TrainingJobStatus),
		func() (string, bool, error) {
			out, err := c.e.describeJob(ctx, cl, args[0])
			if err != nil {
				return "", false, err
			}
			return string(out.SecondaryStatus), terminal(out.TrainingJobStatus), nil
		})
}

// printLogs prints a job's log lines and, with follow, goes on until the job ends.
// status and ended are the job's state now; describe gives them again.
func (e *Env) printLogs(ctx context.Context, tail *logTail, follow bool, status string, ended bool, describe func() (status string, ended bool, err error)) error {
	for {
		if err := tail.poll(ctx); err != nil {
			return err
		}
		if !follow || ended {
			if tail.lines == 0 {
				fmt.Fprintf(e.Stderr, "no log lines yet for %s (%s)\n", tail.job, status)
			}
			return nil
		}
		if err := e.Sleep(ctx, e.logPoll()); err != nil {
			return err
		}
		var err error
		if status, ended, err = describe(); err != nil {
			return err
		}
		if ended {
			// One last read: lines written just before the job ended.
			return tail.poll(ctx)
		}
	}
}

// maxPagesPerPoll bounds one poll of one stream; the rest is read on the next poll.
const maxPagesPerPoll = 1000

// logTail reads every stream of one job from where it left off. Each stream's
// forward token marks what was printed, so every event prints once (identical
// lines included) and nothing grows with the length of the log.
type logTail struct {
	c      *cloudwatchlogs.Client
	b      *backoff // CloudWatch Logs throttles reads too
	group  string   // the job kind's log group
	job    string
	out    io.Writer
	tokens map[string]string
	lines  int
}

func (e *Env) newLogTail(c *cloudwatchlogs.Client, job string) *logTail {
	return &logTail{c: c, b: e.newBackoff(), group: trainingLogGroup, job: job, out: e.Stdout, tokens: map[string]string{}}
}

func (t *logTail) streams(ctx context.Context) ([]string, error) {
	var names []string
	p := cloudwatchlogs.NewDescribeLogStreamsPaginator(t.c, &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupName:        aws.String(t.group),
		LogStreamNamePrefix: aws.String(t.job + "/"),
	})
	for p.HasMorePages() {
		var page *cloudwatchlogs.DescribeLogStreamsOutput
		err := t.b.do(ctx, t.job, func() error {
			var err error
			page, err = p.NextPage(ctx)
			return err
		})
		var nf *cwtypes.ResourceNotFoundException
		if errors.As(err, &nf) || apiErrorCode(err) == "ResourceNotFoundException" {
			return nil, nil // no logs yet
		}
		if err != nil {
			return nil, fmt.Errorf("list log streams of %s: %w", t.job, err)
		}
		for _, s := range page.LogStreams {
			names = append(names, aws.ToString(s.LogStreamName))
		}
	}
	return names, nil
}

// poll prints what is new in every stream. An empty page is not the end of a
// stream (the service may answer several before the next events); the end is a
// forward token that comes back unchanged.
func (t *logTail) poll(ctx context.Context) error {
	names, err := t.streams(ctx)
	if err != nil {
		return err
	}
	for _, stream := range names {
		host := strings.TrimPrefix(stream, t.job+"/")
		if i := strings.LastIndex(host, "-"); i > 0 {
			host = host[:i] // algo-1-1764095400 → algo-1
		}
		for range maxPagesPerPoll {
			in := &cloudwatchlogs.GetLogEventsInput{
				LogGroupName:  aws.String(t.group),
				LogStreamName: aws.String(stream),
				StartFromHead: aws.Bool(true),
			}
			tok, started := t.tokens[stream]
			if started {
				in.NextToken = aws.String(tok)
			}
			var page *cloudwatchlogs.GetLogEventsOutput
			err := t.b.do(ctx, stream, func() error {
				var err error
				page, err = t.c.GetLogEvents(ctx, in)
				return err
			})
			if err != nil {
				return fmt.Errorf("read log stream %s: %w", stream, err)
			}
			for _, ev := range page.Events {
				t.lines++
				if len(names) > 1 {
					fmt.Fprintf(t.out, "[%s] %s\n", host, strings.TrimRight(aws.ToString(ev.Message), "\n"))
				} else {
					fmt.Fprintln(t.out, strings.TrimRight(aws.ToString(ev.Message), "\n"))
				}
			}
			next := aws.ToString(page.NextForwardToken)
			if next == "" || (started && next == tok) {
				break
			}
			t.tokens[stream] = next
		}
	}
	return nil
}
