package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCVCandidates: with --candidate each fold reports the setting its inner folds chose
// and the summary counts the choices; a candidate that changes the samples, an unknown
// or malformed setting, or too few inner folds is a usage error.
func TestCVCandidates(t *testing.T) {
	h := newHarness(t)
	in := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	r := h.run("cv", "--input", in, "--folds", "3", "--seed", "4", "--epochs", "2", "--hp", "lstm_units=8",
		"--candidate", "linear_base=none", "--candidate", "linear_base=ridge,learned_drugs=4", "--inner-folds", "2",
		"--output", filepath.Join(t.TempDir(), "cv"))
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	for _, want := range []string{"fold 1: nested selection chose ", "inner RMSE linear_base=none ", "| linear_base=ridge,learned_drugs=4 | "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, bad := range [][]string{
		{"--candidate", "max_prescriptions=4"},
		{"--candidate", "seed=3"},
		{"--candidate", "no_such=1"},
		{"--candidate", "lstm_units"},
		{"--candidate", "lstm_units=0"},
		{"--candidate", "lstm_units=4", "--inner-folds", "1"},
	} {
		args := append([]string{"cv", "--input", in, "--output", filepath.Join(t.TempDir(), "cv")}, bad...)
		if r := h.run(args...); ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: %v, want a usage error", bad, r.err)
		}
	}
}
