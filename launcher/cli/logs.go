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
		return usageError("logs needs exactly one training job name")
	}
	if err := checkName("job name", args[0], false); err != nil {
		return err
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	tail := c.e.newLogTail(cl.Logs, args[0])
	for {
		if err := tail.poll(ctx); err != nil {
			return err
		}
		if !c.follow {
			if tail.lines == 0 {
				fmt.Fprintf(c.e.Stderr, "no log lines yet for %s\n", args[0])
			}
			return nil
		}
		out, err := c.e.describeJob(ctx, cl, args[0])
		if err != nil {
			return err
		}
		if terminal(out.TrainingJobStatus) {
			// One last read: lines written just before the job ended.
			return tail.poll(ctx)
		}
		if err := c.e.Sleep(ctx, c.e.logPoll()); err != nil {
			return err
		}
	}
}

// logTail reads every stream of one job from where it left off and prints
// each event once (events are keyed by stream, time and text, so an event
// seen through two token pages is not printed twice).
type logTail struct {
	c      *cloudwatchlogs.Client
	b      *backoff // CloudWatch Logs throttles reads too
	job    string
	out    io.Writer
	tokens map[string]string
	seen   map[string]struct{}
	lines  int
}

func (e *Env) newLogTail(c *cloudwatchlogs.Client, job string) *logTail {
	return &logTail{c: c, b: e.newBackoff(), job: job, out: e.Stdout, tokens: map[string]string{}, seen: map[string]struct{}{}}
}

func (t *logTail) streams(ctx context.Context) ([]string, error) {
	var names []string
	p := cloudwatchlogs.NewDescribeLogStreamsPaginator(t.c, &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupName:        aws.String(trainingLogGroup),
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
		for {
			in := &cloudwatchlogs.GetLogEventsInput{
				LogGroupName:  aws.String(trainingLogGroup),
				LogStreamName: aws.String(stream),
				StartFromHead: aws.Bool(true),
			}
			if tok, ok := t.tokens[stream]; ok {
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
				key := fmt.Sprintf("%s\x00%d\x00%s", stream, aws.ToInt64(ev.Timestamp), aws.ToString(ev.Message))
				if _, dup := t.seen[key]; dup {
					continue
				}
				t.seen[key] = struct{}{}
				t.lines++
				if len(names) > 1 {
					fmt.Fprintf(t.out, "[%s] %s\n", host, strings.TrimRight(aws.ToString(ev.Message), "\n"))
				} else {
					fmt.Fprintln(t.out, strings.TrimRight(aws.ToString(ev.Message), "\n"))
				}
			}
			next := aws.ToString(page.NextForwardToken)
			// The service returns the same token again at the end of the stream.
			if next == "" || next == t.tokens[stream] {
				break
			}
			t.tokens[stream] = next
			if len(page.Events) == 0 {
				break
			}
		}
	}
	return nil
}
