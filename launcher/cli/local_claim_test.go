package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// D1: a second run into the --output a running one has claimed is refused at
// start, with or without --force, and the first run's artifacts are its own.
func TestLocalOutputClaimedAtStart(t *testing.T) {
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "run")
	hold := filepath.Join(t.TempDir(), "hold")
	first := make(chan result, 1)
	go func() {
		first <- h.run(localArgs(out, "--name", "first", "--env", "HOLD="+hold)...)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(hold + ".started"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first run never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, extra := range [][]string{nil, {"--force"}} {
		r := h.run(localArgs(out, append([]string{"--name", "second"}, extra...)...)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "in use by launcher local run first-") {
			t.Errorf("second run %v: err = %v", extra, r.err)
		}
		if strings.Contains(r.stdout, "job=second") {
			t.Errorf("second run %v trained", extra)
		}
	}
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := <-first; r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.stderr)
	}
	marker, _ := os.ReadFile(filepath.Join(out, localMarker))
	if !strings.Contains(string(marker), "run first-") {
		t.Errorf("marker %q does not name the first run", marker)
	}
	if _, err := os.Stat(filepath.Join(out, claimFile)); err == nil {
		t.Error("claim left behind after the run")
	}
	// Released: a --force rerun may now replace the marked folders.
	if r := h.run(localArgs(out, "--force")...); r.err != nil {
		t.Errorf("rerun after release: %v", r.err)
	}
}

// D2: a model/ that appears in --output during the run is not replaced, and the
// finished run's model and outputs are moved beside --output, not deleted.
func TestLocalKeepsFinishedRunWhenOutputTaken(t *testing.T) {
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "run")
	r := h.run(localArgs(out, "--name", "taken", "--env", "MKDIR="+filepath.Join(out, "model"))...)
	if r.err == nil || !strings.Contains(r.err.Error(), "model/ exists and no earlier launcher local run wrote it") {
		t.Fatalf("err = %v", r.err)
	}
	_, where, ok := strings.Cut(r.err.Error(), "this run's model/ and output/ are kept at ")
	if !ok {
		t.Fatalf("error does not say where the run went: %v", r.err)
	}
	if filepath.Dir(where) != filepath.Dir(out) {
		t.Errorf("kept at %s, want beside %s", where, out)
	}
	for _, f := range []string{"model/model.json", "output/data/metrics.json", "output/data/predictions.csv"} {
		if _, err := os.Stat(filepath.Join(where, f)); err != nil {
			t.Errorf("finished run's %s lost: %v", f, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(out, "model")); len(entries) != 0 {
		t.Errorf("the other program's model/ was written into: %v", entries)
	}
}
