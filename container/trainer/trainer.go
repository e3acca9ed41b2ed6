package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/blueblood/blueblood/container/optml"
)

// ErrStopped marks a run ended by SIGTERM (context cancellation). The checkpoint and the
// best model so far were written; no failure file is.
var ErrStopped = errors.New("training stopped by SIGTERM")

// Exit statuses of the trainer binary.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	ExitStopped = 143 // 128 + SIGTERM, what a shell reports for a terminated process
)

// ExitCode maps Train's error to the process exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrUsage):
		return ExitUsage
	case errors.Is(err, ErrStopped):
		return ExitStopped
	default:
		return ExitFailure
	}
}

// Options configures Train. Everything that touches the outside is injected.
type Options struct {
	// Root is the /opt/ml tree; "" means optml.DefaultRoot.
	Root string
	// Stdout receives the metric lines SageMaker scrapes; Stderr receives the log.
	Stdout, Stderr io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Start is when the process started, for the time-to-first-epoch log line; zero
	// means when Train was called.
	Start time.Time
	// Getenv reads the environment (TRAINING_JOB_NAME); nil means no environment.
	Getenv func(string) string
	// StopGrace bounds the best-effort outputs after SIGTERM (the ridge baseline, the
	// evaluations), counted from the stop of training; 0 means DefaultStopGrace.
	StopGrace time.Duration
	// MemoryBytes is the memory the job may use; 0 means the cgroup's limit or the
	// machine's total (see MemoryLimit).
	MemoryBytes int64
}

// DefaultStopGrace leaves, of the 120 s SageMaker waits between SIGTERM and SIGKILL, time
// for the batch in flight, the checkpoint, the model and the files written after it.
const DefaultStopGrace = 60 * time.Second

func (o Options) withDefaults() Options {
	o.Root, o.Stdout, o.Stderr = optml.Defaults(o.Root, o.Stdout, o.Stderr)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Start.IsZero() {
		o.Start = o.Now()
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	return o
}

// logger writes the trainer's log lines to stderr. CloudWatch timestamps every line, so
// lines carry the elapsed time instead of a wall-clock time.
type logger struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
}

func (l *logger) printf(format string, a ...any) {
	fmt.Fprintf(l.w, "[trainer %7.2fs] %s\n", l.now().Sub(l.start).Seconds(), fmt.Sprintf(format, a...))
}

// json logs v as one line of compact JSON.
func (l *logger) json(label string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("%v", v))
	}
	l.printf("%s %s", label, b)
}
