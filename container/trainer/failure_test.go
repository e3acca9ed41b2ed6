package trainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blueblood/blueblood/model"
)

func TestFailureReason(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("unknown hyperparameter lerning_rate; did you mean learning_rate?"), "unknown hyperparameter lerning_rate; did you mean learning_rate?"},
		{"wrapped", fmt.Errorf("input/config/hyperparameters.json: %w", errors.New("bad")), "input/config/hyperparameters.json: bad"},
		{"joined lines become one", errors.Join(errors.New("first"), errors.New("  second\r\n")), "first; second"},
		{"control characters dropped, tabs become spaces", errors.New("a\tb\x00c\x1b[31m"), "a bc[31m"},
		{"nil", nil, "unknown error"},
		{"empty", errors.New("\n\n"), "unknown error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := failureReason(tt.err); got != tt.want {
				t.Errorf("FailureReason = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("long text cut on a character boundary", func(t *testing.T) {
		got := failureReason(errors.New(long))
		if len(got) > MaxFailureBytes-1 {
			t.Errorf("%d bytes, want at most %d (room for the newline)", len(got), MaxFailureBytes-1)
		}
		if !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
			t.Errorf("invalid UTF-8 or no ellipsis: %q", got[len(got)-10:])
		}
		if len(got) < MaxFailureBytes-4 {
			t.Errorf("cut too short: %d bytes", len(got))
		}
	})
}

func TestWriteFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "output", "failure")
	if err := writeFailure(path, errors.New("line one\nline two")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "line one; line two\n" {
		t.Errorf("failure file %q", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("output/ holds %d entries, want only failure (no temp files)", len(entries))
	}

	// A long reason: the whole file, newline included, fits SageMaker's 1024 bytes.
	if err := writeFailure(path, errors.New(strings.Repeat("é", 2000))); err != nil {
		t.Fatal(err)
	}
	if data, _ = os.ReadFile(path); len(data) > MaxFailureBytes || !strings.HasSuffix(string(data), "...\n") {
		t.Errorf("failure file is %d bytes (ends %q), want at most %d ending in ...\\n", len(data), data[max(0, len(data)-8):], MaxFailureBytes)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{fmt.Errorf("wrapped: %w", ErrStopped), 143},
		{fmt.Errorf("%w: bad flag", ErrUsage), 2},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestGuardPanic(t *testing.T) {
	err := guard(func() error {
		var m map[string]int
		//lint:ignore SA5000 the test needs a real runtime panic
		m["x"] = 1
		return nil
	})
	if err == nil || err.Error() != "internal error: assignment to entry in nil map" {
		t.Fatalf("error %v", err)
	}
	if reason := failureReason(err); strings.Contains(reason, "goroutine") || strings.Contains(reason, ".go:") {
		t.Errorf("failure reason carries a stack: %q", reason)
	}
	if pe := (*model.PanicError)(nil); !errors.As(err, &pe) || !strings.Contains(string(pe.Stack), "goroutine") {
		t.Errorf("the error lacks the stack for the log: %#v", err)
	}
	if err := guard(func() error { return errors.New("plain") }); err == nil || err.Error() != "plain" {
		t.Errorf("guard changed a plain error: %v", err)
	}
}
