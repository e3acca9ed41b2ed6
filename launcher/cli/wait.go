package cli

import (
	"context"
	"errors"
	"flag"
)

type waitCmd struct {
	e    *Env
	logs bool
}

func newWait(e *Env, fs *flag.FlagSet) unit {
	c := &waitCmd{e: e}
	fs.BoolVar(&c.logs, "logs", false, "also print the job's log as it comes")
	return c
}

// Exec follows the job; the exit code tells how it ended (0 Completed,
// 3 Failed, 4 Stopped).
func (c *waitCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("usage: launcher wait JOB_NAME [--logs]")
	}
	if err := checkName("job name", args[0], false); err != nil {
		return err
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	out, err := c.e.follow(ctx, cl, args[0], c.logs)
	if errors.Is(err, errNoJob) {
		return c.e.processingWait(ctx, cl, args[0], c.logs, err)
	}
	if err != nil {
		return err
	}
	writeSummary(c.e.Stdout, out)
	return jobResult(out)
}
