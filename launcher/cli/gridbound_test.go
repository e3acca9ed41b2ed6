package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// valueList is "NAME=from,from+1,...,from+n-1".
func valueList(name string, from, n int) string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = strconv.Itoa(from + i)
	}
	return name + "=" + strings.Join(vs, ",")
}

// TestGridSizeCheckedAsItGrows: a sweep grid over the job limit is refused while it is
// read (30x30x30 was accepted, five axes of 30 exhausted memory), and a Grid tuning job's
// combination count cannot overflow past its check (16 ranges of 16 values wrapped to 0).
func TestGridSizeCheckedAsItGrows(t *testing.T) {
	names := []string{"epochs", "lstm_units", "encoder_units", "batch_size", "patience"}
	for _, axes := range []int{3, 5} {
		var grid []string
		for _, n := range names[:axes] {
			grid = append(grid, valueList(n, 1, 30))
		}
		h := newHarness(t)
		r := h.run(append([]string{"sweep", "--grid", strings.Join(grid, " "), "--dry-run", "--manifest", filepath.Join(t.TempDir(), "m.json")}, base()...)...)
		want := fmt.Sprintf("--grid: more than %d combinations (with encoder_units)", maxSweepJobs)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), want) {
			t.Errorf("%d axes of 30: err = %v, want a usage error containing %q", axes, r.err, want)
		}
	}

	h := newHarness(t)
	args := append([]string{"tune"}, base()...)
	args = append(args, "--strategy", "Grid")
	for _, name := range []string{"epochs", "lstm_units", "encoder_units", "batch_size", "patience", "seed", "fold", "folds",
		"max_prescriptions", "checkpoint_every", "learning_rate", "dropout_rate", "clip_norm", "weight_decay", "max_gap_days", "max_gap_hours"} {
		args = append(args, "--range", valueList(name, 1, 16))
	}
	r := h.run(args...)
	want := fmt.Sprintf("the grid has more than %d combinations", maxGridTuningJobs)
	if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), want) {
		t.Errorf("16 ranges of 16: err = %v, want a usage error containing %q", r.err, want)
	}
	if h.srv.Calls("SageMaker.CreateHyperParameterTuningJob") != 0 {
		t.Error("submitted")
	}
}
