package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

type listCmd struct {
	e      *Env
	sweep  string
	status string
	limit  int
	proc   bool
}

func newList(e *Env, fs *flag.FlagSet) unit {
	c := &listCmd{e: e}
	fs.StringVar(&c.sweep, "sweep", "", "only jobs of this sweep id (the timestamp in its job names)")
	fs.StringVar(&c.status, "status", "", "only jobs in this status: InProgress, Completed, Failed, Stopping or Stopped")
	fs.IntVar(&c.limit, "limit", 100, "at most this many jobs (newest first)")
	fs.BoolVar(&c.proc, "processing", false, "list processing jobs (launcher prepare --image) instead")
	return c
}

func (c *listCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("list: unexpected argument %q", args[0])
	}
	in := &sagemaker.ListTrainingJobsInput{SortBy: types.SortByCreationTime, SortOrder: types.SortOrderDescending, MaxResults: aws.Int32(100)}
	if c.sweep != "" {
		if !reSweepID.MatchString(c.sweep) {
			return usagef("--sweep %q: expected a sweep id like 20251125183000", c.sweep)
		}
		in.NameContains = aws.String(c.sweep)
	}
	if c.status != "" {
		ok := false
		for _, s := range types.TrainingJobStatus("").Values() {
			ok = ok || string(s) == c.status
		}
		if !ok {
			return usagef("--status %q: expected InProgress, Completed, Failed, Stopping or Stopped", c.status)
		}
		in.StatusEquals = types.TrainingJobStatus(c.status)
	}
	if c.limit < 1 {
		return usagef("--limit %d: expected at least 1", c.limit)
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	if c.proc {
		return c.e.listProcessing(ctx, cl, c.status, c.limit)
	}
	tw := tabwriter.NewWriter(c.e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tSECONDARY\tCREATED")
	n := 0
	p := sagemaker.NewListTrainingJobsPaginator(cl.SageMaker, in)
	for p.HasMorePages() && n < c.limit {
		var page *sagemaker.ListTrainingJobsOutput
		err := c.e.newBackoff().do(ctx, "list", func() error {
			var err error
			page, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("list training jobs: %w", err)
		}
		for _, s := range page.TrainingJobSummaries {
			if n >= c.limit {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(s.TrainingJobName), s.TrainingJobStatus, s.SecondaryStatus, fmtTime(s.CreationTime))
			n++
		}
	}
	return tw.Flush()
}
