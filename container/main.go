// Command trainer is BlueBlood's SageMaker container entrypoint. SageMaker runs it as
// `trainer train` (or with no argument when ContainerEntrypoint is used); `serve` is the
// hosting contract; `metric-definitions` prints the MetricDefinitions for CreateTrainingJob.
// The /opt/ml contract lives in package trainer; this file only dispatches.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/processing"
	"github.com/blueblood/blueblood/container/trainer"
)

const usage = `usage: trainer [train | serve | prepare | metric-definitions]

  train               run a SageMaker training job against /opt/ml (the default)
  serve               serve predictions (SageMaker hosting)
  prepare             prepare a dataset in a SageMaker Processing job (launcher prepare --image)
  metric-definitions  print the MetricDefinitions JSON for CreateTrainingJob

The root is /opt/ml, or $SAGEMAKER_BASE_DIR when set.
`

func main() {
	start := time.Now()
	chooseBLASKernel() // may restart the process once (OpenBLAS build only)
	if len(os.Args) < 2 || os.Args[1] == "train" || os.Args[1] == "serve" {
		logStartup(os.Stderr)
	}
	// SageMaker stops a job with SIGTERM and kills it 120 s later; the trainer turns the
	// signal into a cancelled context and saves a checkpoint and the best model.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, start)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, start time.Time) int {
	cmd := "train"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "train":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "train: unexpected arguments %q\n%s", args[1:], usage)
			return trainer.ExitUsage
		}
		err := trainer.Train(ctx, trainer.Options{
			Root:   optml.RootFromEnv(getenv),
			Stdout: stdout,
			Stderr: stderr,
			Start:  start,
			Getenv: getenv,
		})
		if err != nil {
			fmt.Fprintf(stderr, "train: %v\n", err)
		}
		return trainer.ExitCode(err)
	case "serve":
		if err := runServe(ctx, args[1:], stderr, getenv); err != nil {
			fmt.Fprintln(stderr, err)
			return trainer.ExitFailure
		}
		return trainer.ExitOK
	case processing.Command:
		return runPrepare(ctx, args[1:], stdout, stderr, getenv)
	case "metric-definitions":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(metricdef.Definitions()); err != nil {
			fmt.Fprintf(stderr, "metric-definitions: %v\n", err)
			return trainer.ExitFailure
		}
		return trainer.ExitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return trainer.ExitOK
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s", cmd, usage)
		return trainer.ExitUsage
	}
}
