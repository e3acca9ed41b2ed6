package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSynthNativeAndPairingFlags: synth --format mimic-iv writes a native folder (and
// refuses an existing one); prepare's pairing flags are checked before anything is read.
func TestSynthNativeAndPairingFlags(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "mimic")
	r := h.run("synth", "--format", "mimic-iv", "--subjects", "12", "--out", dir)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	if !strings.Contains(r.stdout, "12 subjects") {
		t.Fatalf("synth said %q", r.stdout)
	}
	for _, f := range []string{"hosp/prescriptions.csv.gz", "hosp/labevents.csv.gz", "hosp/d_labitems.csv.gz", "hosp/admissions.csv.gz", "icu/icustays.csv.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if r := h.run("synth", "--format", "mimic-iv", "--out", dir); r.err == nil || !strings.Contains(r.err.Error(), "already exists") {
		t.Fatalf("synth over an existing folder: %v", r.err)
	}
	if r := h.run("synth", "--format", "mimic-v", "--out", dir+"2"); r.err == nil || !strings.Contains(r.err.Error(), "--format") {
		t.Fatalf("unknown format: %v", r.err)
	}
	out := filepath.Join(t.TempDir(), "prep")
	for args, want := range map[string]string{
		"--pre-window-hours -1":                     "pre_window_hours=-1",
		"--min-lag-hours 30":                        "min lag 30 hours is beyond the post window",
		"--pairing nearest":                         "pairing",
		"--post-window-hours 9000":                  "post_window_hours=9000",
		"--min-lag-hours 2 --post-window-hours 1.5": "beyond the post window",
		"--analytes 50971,,50983":                   "empty item",
	} {
		r := h.run(append([]string{"prepare", "--input", dir, "--output", out}, strings.Fields(args)...)...)
		if r.err == nil || !strings.Contains(r.err.Error(), want) {
			t.Errorf("prepare %s: %v; want %q", args, r.err, want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a refused prepare wrote its output")
	}
}

// TestPrepareAndCVOnMIMIC: prepare and cv take a native MIMIC folder as it is; prepare
// prints the pairs per analyte and writes --table, which prepare reads back as a
// final table.
func TestPrepareAndCVOnMIMIC(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "mimic")
	if r := h.run("synth", "--format", "mimic-iii", "--subjects", "40", "--out", dir); r.err != nil {
		t.Fatal(r.err)
	}
	out := filepath.Join(t.TempDir(), "prep")
	table := filepath.Join(t.TempDir(), "pairs.csv")
	r := h.run("prepare", "--input", dir, "--output", out, "--analytes", "Potassium,Sodium", "--post-window-hours", "12", "--table", table)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	for _, want := range []string{"native tables:       mimic-iii, pairing windows: pre within 24 h before, post 1 h to 12 h after, same admission", "  potassium ", "layout:              2 analytes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("prepare output lacks %q:\n%s", want, r.stdout)
		}
	}
	r2 := h.run("prepare", "--input", table, "--output", filepath.Join(t.TempDir(), "prep2"))
	if r2.err != nil || !strings.Contains(r2.stdout, "layout:              2 analytes") {
		t.Fatalf("prepare of the table: %v\n%s", r2.err, r2.stdout)
	}
	r = h.run("cv", "--input", dir, "--folds", "2", "--epochs", "1", "--hp", "lstm_units=4", "--hp", "analytes=Potassium", "--output", filepath.Join(t.TempDir(), "cv"))
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	if !strings.Contains(r.stdout, "2 folds by subject") || !strings.Contains(r.stdout, "potassium") {
		t.Fatalf("cv output:\n%s", r.stdout)
	}
}
