package main

import (
	"context"
	"fmt"
	"io"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/processing"
	"github.com/blueblood/blueblood/container/trainer"
)

// runPrepare is the SageMaker Processing entrypoint (`trainer prepare OPTION=VALUE...`,
// the job's ContainerArguments). ctx is cancelled on SIGINT (StopProcessingJob) or
// SIGTERM; the run then removes what it wrote and exits as stopped.
func runPrepare(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	err := processing.Run(ctx, processing.Options{Root: optml.RootFromEnv(getenv), Args: args, Getenv: getenv, Stdout: stdout, Stderr: stderr})
	if err == nil {
		return trainer.ExitOK
	}
	fmt.Fprintf(stderr, "prepare: %v\n", err)
	if ctx.Err() != nil {
		return trainer.ExitStopped
	}
	return trainer.ExitFailure
}
