package cli

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSynthWritesDeterministicFiles(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	a, b, z := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"), filepath.Join(dir, "c.csv.gz")
	for _, out := range []string{a, b, z} {
		r := h.run("synth", "--subjects", "12", "--seed", "5", "--out", out)
		if r.err != nil || !strings.Contains(r.stdout, "wrote "+out+": 12 subjects") {
			t.Fatalf("synth %s: %v %s", out, r.err, r.stdout)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if len(ab) == 0 || !bytes.Equal(ab, bb) {
		t.Error("same seed, different files")
	}
	f, err := os.Open(z)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf(".gz output is not gzip: %v", err)
	}
	zb, _ := io.ReadAll(zr)
	if !bytes.Equal(zb, ab) {
		t.Error("gzip content differs from the plain file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("temp files left behind: %v", entries)
	}
	for _, bad := range [][]string{{"synth", "--subjects", "5"}, {"synth", "--out", a, "--subjects", "0"}} {
		if r := h.run(bad...); ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: %v", bad, r.err)
		}
	}
}

func TestPrepareSplitsBundledData(t *testing.T) {
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "prepared")
	r := h.run("prepare", "--input", filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv"), "--output", out,
		"--seed", "3", "--fractions", "0.6,0.2,0.2", "--max-prescriptions", "10", "--overflow-policy", "split")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	for _, want := range []string{"split:               by subject, seed 3, fractions 0.6/0.2/0.2", "policy split"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, split := range []string{"train", "validation", "test"} {
		if _, err := os.Stat(filepath.Join(out, split, "manifest.json")); err != nil {
			t.Errorf("%s: %v", split, err)
		}
	}
}

func TestPrepareBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--output", "x"}, "--input is required"},
		{[]string{"--input", "a.csv"}, "--output is required"},
		{[]string{"--input", "a.csv", "--output", "x", "--fractions", "0.5,0.5"}, `--fractions "0.5,0.5": expected three shares`},
		{[]string{"--input", "a.csv", "--output", "x", "--fractions", "0.5,0.3,0.3"}, "sum to 1.1: expected 1"},
		{[]string{"--input", "a.csv", "--output", "x", "--fractions", "a,b,c"}, `share "a"`},
		{[]string{"--input", "a.csv", "--output", "x", "--fractions", "NaN,0.5,0.5"}, `--fractions "NaN,0.5,0.5": fraction train NaN: expected a number in [0, 1]`},
		{[]string{"--input", "a.csv", "--output", "x", "--overflow-policy", "drop"}, `overflow_policy="drop": expected one of truncate, split`},
		{[]string{"--input", "a.csv", "--output", "x", "--max-prescriptions", "-1"}, "max_prescriptions=-1: out of range"},
		{[]string{"--input", "a.csv", "--output", "x", "--max-bad-rows", "-2"}, "--max-bad-rows -2"},
	}
	for _, tt := range tests {
		h := newHarness(t)
		r := h.run(append([]string{"prepare"}, tt.args...)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, r.err, tt.want)
		}
	}
}

// prepare's hyperparameter flags are checked as the trainer checks the hyperparameters
// (hparams.Specs), before anything is read or written: NaN used to pass --max-gap-days
// and --max-gap-hours (the latter read everything, then failed writing summary.json).
func TestPrepareFlagsCheckedAsHyperparameters(t *testing.T) {
	in := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	tests := []struct {
		flag, value, want string
	}{
		{"--max-gap-days", "NaN", `--max-gap-days: hyperparameter max_gap_days="NaN": expected a number in [0, 36500]`},
		{"--max-gap-hours", "NaN", `--max-gap-hours: hyperparameter max_gap_hours="NaN": expected a number in [0, 876000]`},
		{"--max-gap-hours", "Inf", `hyperparameter max_gap_hours="Inf": expected a number in [0, 876000]`},
		{"--max-gap-hours", "1e9", "hyperparameter max_gap_hours=1e9: out of range, expected a number in [0, 876000]"},
		{"--max-prescriptions", "2.5", `hyperparameter max_prescriptions="2.5": expected an integer in [0, 100000]`},
		{"--max-prescriptions", "1000000", "max_prescriptions=1000000: out of range"},
		{"--overflow-policy", "drop", `hyperparameter overflow_policy="drop": expected one of truncate, split`},
		{"--seed", "-1", "hyperparameter seed=-1: out of range"},
	}
	for _, tt := range tests {
		h := newHarness(t)
		out := filepath.Join(t.TempDir(), "p")
		r := h.run("prepare", "--input", in, "--output", out, tt.flag, tt.value)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%s %s: err = %v, want a usage error with %q", tt.flag, tt.value, r.err, tt.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s %s: output written: %v", tt.flag, tt.value, err)
		}
	}
}
