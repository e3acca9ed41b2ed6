package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// trainedJob submits a job and polls it until it has written its log.
func (h *harness) trainedJob(name string) {
	h.t.Helper()
	h.submit(name)
	for range 5 {
		h.run("status", name)
	}
}

func TestLogsFollowsEmptyPages(t *testing.T) {
	h := newHarness(t, sagemakertest.WithEmptyLogPages(3))
	h.trainedJob("empty-pages-1")
	want := sagemakertest.DefaultOutcome(sagemakertest.Job{Name: "empty-pages-1", HyperParameters: h.srv.JobHyperParameters("empty-pages-1")}).LogLines
	for _, follow := range []bool{false, true} {
		args := []string{"logs", "empty-pages-1"}
		if follow {
			args = append(args, "--follow")
		}
		r := h.run(args...)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if got := strings.TrimSpace(r.stdout); got != strings.Join(want, "\n") {
			t.Errorf("%v: got\n%s\nwant\n%s\nstderr: %s", args, got, strings.Join(want, "\n"), r.stderr)
		}
	}
}

func TestLogsPrintsIdenticalLinesEachTime(t *testing.T) {
	h := newHarness(t)
	h.trainedJob("same-1")
	at := time.Date(2025, 11, 25, 18, 40, 0, 0, time.UTC)
	stream := "same-1/algo-1-" + "1764095400"
	for range 3 {
		h.srv.AppendLog(sagemakertest.TrainingJobLog, stream, at, "epoch 1: same line")
	}
	r := h.run("logs", "same-1")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := strings.Count(r.stdout, "epoch 1: same line"); n != 3 {
		t.Errorf("3 identical lines in the same millisecond printed %d times:\n%s", n, r.stdout)
	}
}

func TestLogsOfMissingJobFails(t *testing.T) {
	h := newHarness(t)
	r := h.run("logs", "no-such-job")
	if r.err == nil || ExitCode(r.err) == 0 || !strings.Contains(r.err.Error(), "no such training job") ||
		!strings.Contains(r.err.Error(), "us-east-1") || strings.Contains(r.stderr, "no log lines yet") {
		t.Errorf("logs of a missing job: %v, stderr %q", r.err, r.stderr)
	}
	h.submit("not-yet-1")
	if r := h.run("logs", "not-yet-1"); r.err != nil || !strings.Contains(r.stderr, "no log lines yet for not-yet-1") {
		t.Errorf("job without logs yet: %v %q", r.err, r.stderr)
	}
}

func TestUsageLinesNameTheJob(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []string{"status", "wait", "logs"} {
		r := h.run(cmd)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "usage: launcher "+cmd+" JOB_NAME") {
			t.Errorf("%s without a name: %v", cmd, r.err)
		}
		r = h.run(cmd, "-h")
		if r.err != nil || !strings.HasPrefix(r.stdout, "usage: launcher "+cmd+" JOB_NAME [flags]") {
			t.Errorf("%s -h: %v %q", cmd, r.err, r.stdout)
		}
	}
}
