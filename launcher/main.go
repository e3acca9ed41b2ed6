// Command launcher submits, sweeps, tunes and follows BlueBlood training jobs on
// SageMaker, and runs the trainer locally the way SageMaker would.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/blueblood/blueblood/launcher/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
	}
	os.Exit(cli.ExitCode(err))
}
