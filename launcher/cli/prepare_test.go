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
		"--seed", "3", "--fractions", "0.6,0.2,0.2", "--max-prescriptions", "10", "--overflow", "split")
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
		{[]string{"--input", "a.csv", "--output", "x", "--fractions", "0.5,0.3,0.3"}, "summing to 1"},
		{[]string{"--input", "a.csv", "--output", "x", "--fractions", "a,b,c"}, `share "a"`},
		{[]string{"--input", "a.csv", "--output", "x", "--overflow", "drop"}, `--overflow "drop": expected truncate or split`},
		{[]string{"--input", "a.csv", "--output", "x", "--max-prescriptions", "-1"}, "--max-prescriptions -1"},
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
