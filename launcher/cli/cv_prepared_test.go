package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCVTakesPreparedDatasets: cv reads what prepare writes (the whole output, pooling
// its splits, or one split folder) and sees the samples the table holds.
func TestCVTakesPreparedDatasets(t *testing.T) {
	h := newHarness(t)
	table := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	prepared := filepath.Join(t.TempDir(), "prepared")
	if r := h.run("prepare", "--input", table, "--output", prepared); r.err != nil {
		t.Fatalf("prepare: %v\n%s", r.err, r.stderr)
	}
	first := func(args ...string) string {
		t.Helper()
		r := h.run(append([]string{"cv", "--folds", "2", "--epochs", "1", "--hp", "lstm_units=4", "--output", filepath.Join(t.TempDir(), "cv")}, args...)...)
		if r.err != nil {
			t.Fatalf("cv %q: %v\n%s", args, r.err, r.stdout)
		}
		line, _, _ := strings.Cut(r.stdout, ";")
		return line
	}
	fromTable := first("--input", table)
	if got := first("--input", prepared); got != fromTable {
		t.Errorf("cv on the prepared output reads %q, on the table %q", got, fromTable)
	}
	if got := first("--input", filepath.Join(prepared, "train")); got == fromTable || !strings.Contains(got, "samples from") {
		t.Errorf("cv on the train split alone reads %q", got)
	}
	if r := h.run("cv", "--input", prepared, "--input", table); r.err == nil || !strings.Contains(r.err.Error(), "give one kind") {
		t.Errorf("mixed inputs: %v", r.err)
	}
}
