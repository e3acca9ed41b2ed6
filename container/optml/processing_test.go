package optml

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestLocalMapsProcessingPathsBelowTheRoot(t *testing.T) {
	p := Paths{Root: "/tmp/job"}
	for in, want := range map[string]string{
		"/opt/ml/processing/input/input-1":    "/tmp/job/processing/input/input-1",
		"/opt/ml/processing/output/prepared/": "/tmp/job/processing/output/prepared",
		"/opt/ml/processing/x/../input/a":     "/tmp/job/processing/input/a",
	} {
		if got, err := p.Local(in); err != nil || got != want {
			t.Errorf("Local(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"/opt/ml/processing", "/opt/ml/processing/", "/opt/ml/processing/../model", "/etc/passwd", "processing/input", "/opt/ml/processingx/a"} {
		if got, err := p.Local(bad); err == nil {
			t.Errorf("Local(%q) = %q, want an error", bad, got)
		}
	}
	if got := (Paths{Root: DefaultRoot}).ProcessingInput("input-1"); got != "/opt/ml/processing/input/input-1" {
		t.Errorf("ProcessingInput = %q", got)
	}
}

func TestReasonIsOneBoundedLine(t *testing.T) {
	long := strings.Repeat("é", 2000)
	got := Reason(errors.New("line one\nline\ttwo\x00 "+long), MaxExitMessageBytes)
	if len(got) > MaxExitMessageBytes-1 || strings.ContainsAny(got, "\n\t\x00") || !strings.HasPrefix(got, "line one; line two ") || !strings.HasSuffix(got, "...") {
		t.Errorf("Reason = %q (%d bytes)", got[:40], len(got))
	}
	if got := Reason(errors.Join(syscall.ENOSPC), 100); !strings.HasPrefix(got, "out of disk space") {
		t.Errorf("ENOSPC: %q", got)
	}
	if got := Reason(nil, 100); got != "unknown error" {
		t.Errorf("nil: %q", got)
	}
}
