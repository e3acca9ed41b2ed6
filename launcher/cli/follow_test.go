package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// submit creates a job through the launcher and returns its name.
func (h *harness) submit(name string) {
	h.t.Helper()
	if r := h.run(append([]string{"train", "--name", name}, base()...)...); r.err != nil {
		h.t.Fatal(r.err)
	}
}

func TestWaitExitCodes(t *testing.T) {
	h := newHarness(t, sagemakertest.WithOutcome(func(j sagemakertest.Job) sagemakertest.Outcome {
		if strings.HasPrefix(j.Name, "bad") {
			return sagemakertest.Outcome{Status: "Failed", FailureReason: "AlgorithmError: exit code 1"}
		}
		return sagemakertest.DefaultOutcome(j)
	}))
	h.submit("good-1")
	h.submit("bad-1")
	h.submit("stopped-1")
	if r := h.run("stop", "stopped-1", "good-1", "--dry-run"); r.err != nil || r.stdout != "{\"TrainingJobName\":\"stopped-1\"}\n{\"TrainingJobName\":\"good-1\"}\n" {
		t.Fatalf("stop --dry-run: %v %q", r.err, r.stdout)
	}
	if n := h.srv.Calls("SageMaker.StopTrainingJob"); n != 0 {
		t.Fatalf("stop --dry-run called StopTrainingJob %d times", n)
	}
	if r := h.run("stop", "stopped-1"); r.err != nil || !strings.Contains(r.stdout, "stopping stopped-1") {
		t.Fatalf("stop: %v %s", r.err, r.stdout)
	}
	tests := []struct {
		name     string
		code     int
		contains string
	}{
		{"good-1", 0, "status    Completed (Completed)"},
		{"bad-1", ExitJobFailed, "reason    AlgorithmError: exit code 1"},
		{"stopped-1", ExitStopped, "status    Stopped (Stopped)"},
	}
	for _, tt := range tests {
		r := h.run("wait", tt.name)
		if ExitCode(r.err) != tt.code || !strings.Contains(r.stdout, tt.contains) {
			t.Errorf("wait %s: exit %d (%v), stdout:\n%s", tt.name, ExitCode(r.err), r.err, r.stdout)
		}
	}
	if r := h.run("stop", "good-1"); r.err == nil || !strings.Contains(r.err.Error(), "in status Completed") {
		t.Errorf("stopping a completed job: %v", r.err)
	}
	if r := h.run("wait", "no-such-job"); r.err == nil || !strings.Contains(r.err.Error(), "describe training job no-such-job") {
		t.Errorf("unknown job: %v", r.err)
	}
	if r := h.run("wait", "bad_name"); ExitCode(r.err) != ExitUsage {
		t.Errorf("bad name: %v", r.err)
	}
}

func TestWaitPollsAtTheInterval(t *testing.T) {
	h := newHarness(t, sagemakertest.WithStepsPerStatus(3))
	h.submit("slow-1")
	r := h.run("wait", "slow-1")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(h.sleeps) == 0 {
		t.Fatal("never slept between polls")
	}
	for _, d := range h.sleeps {
		if d != 10*time.Second {
			t.Errorf("slept %s, want the 10s poll interval", d)
		}
	}
	// Each transition is printed once, in order.
	last := -1
	for _, s := range []string{"Starting", "Downloading", "Training", "Uploading", "Completed"} {
		if strings.Count(r.stderr, "Z  "+s+" ") != 1 {
			t.Errorf("%s shown %d times:\n%s", s, strings.Count(r.stderr, "Z  "+s+" "), r.stderr)
		}
		i := strings.Index(r.stderr, "Z  "+s+" ")
		if i < last {
			t.Errorf("%s out of order", s)
		}
		last = i
	}
}

func TestLogsFollowDeduplicatesAndRespectsFloor(t *testing.T) {
	h := newHarness(t)
	h.submit("logs-1")
	h.submit("logs-10") // same prefix without the slash: must not be mixed in
	var out, errb = newBuf(), newBuf()
	env := h.env(out, errb)
	env.PollInterval = 10 * time.Millisecond // faster than the 1 s floor
	if err := env.Run(t.Context(), []string{"logs", "logs-1", "--follow"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := sagemakertest.DefaultOutcome(sagemakertest.Job{Name: "logs-1", HyperParameters: h.srv.JobHyperParameters("logs-1")}).LogLines
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	for _, d := range h.sleeps {
		if d < time.Second {
			t.Errorf("polled logs after %s, below the 1 s floor", d)
		}
	}
}

func TestLogsSeveralStreamsArePrefixed(t *testing.T) {
	h := newHarness(t)
	h.submit("multi-1")
	for range 4 {
		h.run("status", "multi-1") // advance the job into Training
	}
	at := time.Date(2025, 11, 25, 18, 31, 0, 0, time.UTC)
	h.srv.AppendLog(sagemakertest.TrainingJobLog, "multi-1/algo-2-1764095400", at, "hello from host 2")
	r := h.run("logs", "multi-1")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.stdout, "[algo-2] hello from host 2") || !strings.Contains(r.stdout, "[algo-1] blueblood trainer: training multi-1") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if strings.Count(r.stdout, "hello from host 2") != 1 {
		t.Error("duplicate line")
	}
	h.submit("never-ran")
	if r := h.run("logs", "never-ran"); r.err != nil || !strings.Contains(r.stderr, "no log lines yet") {
		t.Errorf("job without logs: %v %s", r.err, r.stderr)
	}
}

func TestStatusAndList(t *testing.T) {
	h := newHarness(t)
	h.submit("status-1")
	r := h.run("status", "status-1")
	if r.err != nil || !strings.Contains(r.stdout, "job       status-1") || !strings.Contains(r.stdout, "hp        epochs="+specDefault("epochs")) {
		t.Errorf("status: %v\n%s", r.err, r.stdout)
	}
	manifest := t.TempDir() + "/m.json"
	if r := h.run(append([]string{"sweep", "--grid", "epochs=10,20,30", "--manifest", manifest}, base()...)...); r.err != nil {
		t.Fatal(r.err)
	}
	r = h.run("list", "--sweep", "20251125183000")
	if r.err != nil {
		t.Fatal(r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || strings.Contains(r.stdout, "status-1") {
		t.Errorf("list --sweep:\n%s", r.stdout)
	}
	r = h.run("list", "--limit", "2")
	if n := len(strings.Split(strings.TrimSpace(r.stdout), "\n")); r.err != nil || n != 3 {
		t.Errorf("list --limit 2: %d lines, %v", n, r.err)
	}
	if r := h.run("list", "--status", "Done"); ExitCode(r.err) != ExitUsage {
		t.Errorf("bad status: %v", r.err)
	}
	if r := h.run("list", "--sweep", "x; rm"); ExitCode(r.err) != ExitUsage {
		t.Errorf("bad sweep id: %v", r.err)
	}
}

func TestStatusTuning(t *testing.T) {
	h := newHarness(t)
	if r := h.run(append([]string{"tune", "--name", "st-tune", "--range", "lstm_units=32:128", "--max-jobs", "2"}, base()...)...); r.err != nil {
		t.Fatal(r.err)
	}
	r := h.run("status", "--tuning", "st-tune")
	if r.err != nil || !strings.Contains(r.stdout, "tuning job  st-tune") || !strings.Contains(r.stdout, "strategy    Bayesian") {
		t.Errorf("%v\n%s", r.err, r.stdout)
	}
	if r := h.run("stop", "st-tune", "--tuning"); r.err != nil || !strings.Contains(r.stdout, "stopping st-tune") { // flags may follow the name
		t.Errorf("stop tuning: %v", r.err)
	}
}
