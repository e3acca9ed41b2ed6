// Package cli implements the launcher's subcommands. Run is the entry point;
// everything that touches the outside world (AWS clients, clock, sleeping,
// environment, child processes) comes through Env so tests can swap it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/blueblood/blueblood/container/hparams"
)

// Env is everything a subcommand may use from the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// Sleep waits for d or until ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clients builds the AWS clients; Run calls it at most once, and only for
	// subcommands that talk to AWS.
	Clients func(ctx context.Context) (*Clients, error)
	// PollInterval is how often wait, logs --follow and --wait poll (default 10 s).
	PollInterval time.Duration
	// LogPollFloor is the shortest interval between CloudWatch Logs polls (1 s).
	LogPollFloor time.Duration
	// LookPath finds executables (the trainer, docker).
	LookPath func(string) (string, error)
	// GitCommit returns the commit submitted jobs are tagged with, "" when unknown.
	GitCommit func() string

	clientsOnce sync.Once
	clients     *Clients
	clientsErr  error
	credsOnce   sync.Once
	credsErr    error
}

// DefaultEnv is the environment of the real process.
func DefaultEnv(stdin io.Reader, stdout, stderr io.Writer) *Env {
	return &Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Getenv:       os.Getenv,
		Now:          time.Now,
		Sleep:        sleepCtx,
		Clients:      DefaultClients,
		PollInterval: 10 * time.Second,
		LogPollFloor: time.Second,
		LookPath:     exec.LookPath,
		GitCommit:    gitCommit,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// gitCommit is the launcher's own commit, from the build info; "" when the build
// carries none (go run, -buildvcs=false, source archives). The working folder's
// repository is not asked: it is whatever the user stands in, not the launcher's.
func gitCommit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return ""
}

// aws returns the clients, building them and resolving their credentials on first use.
func (e *Env) aws(ctx context.Context) (*Clients, error) {
	cl, err := e.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	e.credsOnce.Do(func() { e.credsErr = cl.checkCredentials(ctx) })
	if e.credsErr != nil {
		return nil, e.credsErr
	}
	return cl, nil
}

// awsConfig returns the clients without resolving credentials, for their region and
// endpoints only: it sends nothing (dry runs use it).
func (e *Env) awsConfig(ctx context.Context) (*Clients, error) {
	e.clientsOnce.Do(func() { e.clients, e.clientsErr = e.Clients(ctx) })
	return e.clients, e.clientsErr
}

func (e *Env) pollInterval() time.Duration {
	if e.PollInterval <= 0 {
		return 10 * time.Second
	}
	return e.PollInterval
}

// logPoll is the log polling interval: the poll interval, but never below the floor.
func (e *Env) logPoll() time.Duration {
	return max(e.pollInterval(), e.LogPollFloor)
}

// Run runs the launcher with the process environment.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return DefaultEnv(stdin, stdout, stderr).Run(ctx, args)
}

// unit is one subcommand: its flags are registered when it is built, Exec runs it
// with the remaining positional arguments.
type unit interface {
	Exec(ctx context.Context, args []string) error
}

type command struct {
	name    string
	summary string
	build   func(e *Env, fs *flag.FlagSet) unit
}

// Run dispatches args[0] to a subcommand.
func (e *Env) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		e.usage(e.Stdout)
		if len(args) == 0 {
			return usageError("missing subcommand")
		}
		return nil
	}
	if args[0] == "local" && len(args) > 1 && args[1] == "serve" {
		// "local serve" reads like the rest of the local workflow; it is local-serve.
		args = append([]string{"local-serve"}, args[2:]...)
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet("launcher "+c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		u := c.build(e, fs)
		rest, err := parseInterleaved(fs, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			usage := c.name
			if ops := operands[c.name]; ops != "" {
				usage += " " + ops
			}
			fmt.Fprintf(e.Stdout, "usage: launcher %s [flags]\n\n%s\n\nflags:\n", usage, c.summary)
			fs.SetOutput(e.Stdout)
			fs.PrintDefaults()
			return nil
		}
		if err != nil {
			return redactErr(usageError(flagError(err, fs)))
		}
		return redactErr(u.Exec(ctx, rest))
	}
	return redactErr(usageError(fmt.Sprintf("unknown subcommand %q (run launcher help)", args[0])))
}

func (e *Env) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: launcher <subcommand> [flags]  (launcher <subcommand> -h for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
}

// parseInterleaved lets flags follow positional arguments ("status NAME --tuning").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError rewrites the flag package's wording to name the flag with "--".
func flagError(err error, fs *flag.FlagSet) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		msg = "unknown flag --" + strings.TrimPrefix(name, "-")
		if near := hparams.Nearest(strings.TrimPrefix(name, "-"), names); near != "" {
			msg += "; did you mean --" + near + "?"
		}
		return msg
	}
	msg = strings.ReplaceAll(msg, "flag: -", "flag --")
	msg = strings.ReplaceAll(msg, " for flag -", " for flag --")
	msg = strings.ReplaceAll(msg, "provided but not defined: -", "unknown flag --")
	msg = strings.ReplaceAll(msg, "flag needs an argument: -", "flag needs an argument: --")
	return msg
}

// ExitError carries an exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Exit codes.
const (
	ExitFailure   = 1 // anything else
	ExitUsage     = 2 // bad flags or arguments; nothing was submitted
	ExitJobFailed = 3 // the job ended Failed
	ExitStopped   = 4 // the job ended Stopped
)

// reURLQuery matches a URL's query string, where presigned URLs carry their
// signature and credential; errors never show it.
var reURLQuery = regexp.MustCompile(`((?i:https?|s3)://[^\s"'?]*)\?[^\s"']*`)

// RedactURLs hides the query string of every URL in s.
func RedactURLs(s string) string {
	return reURLQuery.ReplaceAllString(s, "$1?<query hidden>")
}

// redactedError is err with URL query strings hidden from its message; errors.Is
// and errors.As (exit codes) still see err.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

func redactErr(err error) error {
	if err == nil {
		return nil
	}
	if msg := RedactURLs(err.Error()); msg != err.Error() {
		return &redactedError{msg: msg, err: err}
	}
	return err
}

func usageError(msg string) error {
	return &ExitError{Code: ExitUsage, Err: errors.New(msg)}
}

func usagef(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error from Run to a process exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}
