package cli

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// With an instance quota of 2, a sweep's later jobs are submitted as earlier ones
// end; with --keep-alive they take over the finished jobs' warm pools and start in
// the warm time. The leaderboard shows which jobs started warm and the time saved.
func TestSweepWarmPoolsReuseAndShowTimeSaved(t *testing.T) {
	h := newHarness(t, sagemakertest.WithQuota(2), sagemakertest.WithStartup(3*time.Minute, 10*time.Second))
	dir := t.TempDir()
	r := h.run(append([]string{"sweep", "--grid", "epochs=10,20,30,40,50,60", "--keep-alive", "600", "--wait",
		"--quota-wait", "1s", "--manifest", filepath.Join(dir, "m.json")}, base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	t.Logf("leaderboard (startup modelled by the test server: 3 min cold, 10 s warm):\n%s", r.stdout)
	var req struct{ ResourceConfig map[string]any }
	_ = json.Unmarshal(h.srv.Bodies("SageMaker.CreateTrainingJob")[0], &req)
	if req.ResourceConfig["KeepAlivePeriodInSeconds"] != 600.0 {
		t.Errorf("ResourceConfig = %v", req.ResourceConfig)
	}
	m := regexp.MustCompile(`warm pools: (\d) of 6 jobs started on a warm pool; median startup 10s warm vs 3m0s cold: (\S+) of startup saved`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no warm pool summary:\n%s", r.stdout)
	}
	warm := strings.Count(r.stdout, "  yes  ")
	if m[1] != "4" || warm != 4 {
		t.Errorf("%s jobs warm in the summary, %d in the table; want 4 (two cold starts fill the quota):\n%s", m[1], warm, r.stdout)
	}
	if m[2] != "11m20s" { // 4 × (180 s − 10 s)
		t.Errorf("saved %s, want 11m20s", m[2])
	}
}

func TestKeepAliveLimits(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{append([]string{"train", "--dry-run"}, base("--keep-alive", "3601")...), "--keep-alive 3601: expected 0 to 3600 seconds"},
		{append([]string{"sweep", "--dry-run", "--grid", "epochs=10,20"}, base("--keep-alive", "-1")...), "--keep-alive -1"},
		{append([]string{"tune", "--dry-run", "--range", "lstm_units=32:128"}, base("--keep-alive", "60")...), "--keep-alive applies to train and sweep"},
	} {
		if r := h.run(tt.args...); ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, r.err, tt.want)
		}
	}
	// Without --keep-alive no job has a warm pool, and the leaderboard says nothing of them.
	r := h.run(append([]string{"sweep", "--grid", "epochs=10,20", "--wait", "--manifest", filepath.Join(t.TempDir(), "m.json")}, base()...)...)
	if r.err != nil || strings.Contains(r.stdout, "warm pools") {
		t.Errorf("%v\n%s", r.err, r.stdout)
	}
}
