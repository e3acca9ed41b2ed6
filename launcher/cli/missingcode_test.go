package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMissingCodeFlags: synth writes the failing shape of issue #20 (every missing value
// -1.0, a few values negative), prepare reads every -1.0 as missing by default and as
// --missing-code says, recording the decision in the layout; bad settings are usage errors.
func TestMissingCodeFlags(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	table := filepath.Join(dir, "shape.csv")
	if r := h.run("synth", "--subjects", "40", "--seed", "20", "--missing-rate", "0.55", "--minus-one-everywhere", "--sign-errors", "0.01", "--out", table); r.err != nil {
		t.Fatal(r.err)
	}
	for _, tc := range []struct {
		flag      []string
		line      string
		valueList []string
	}{
		{nil, "-1.0 read as missing in 25 analytes; -1 kept as a value in: none", nil},
		{[]string{"--missing-code", "baseexcess=value"}, "-1.0 read as missing in 24 analytes; -1 kept as a value in: baseexcess", []string{"baseexcess"}},
	} {
		out := filepath.Join(dir, strings.Join(append([]string{"p"}, tc.flag...), "-"))
		r := h.run(append([]string{"prepare", "--input", table, "--output", out}, tc.flag...)...)
		if r.err != nil {
			t.Fatalf("%v: %v", tc.flag, r.err)
		}
		if !strings.Contains(r.stdout, tc.line) {
			t.Errorf("%v: summary lacks %q:\n%s", tc.flag, tc.line, r.stdout)
		}
		data, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		var sum struct {
			Layout struct {
				MinusOneReal []string `json:"minus_one_real"`
			} `json:"layout"`
		}
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sum.Layout.MinusOneReal, tc.valueList) {
			t.Errorf("%v: layout lists %v, want %v", tc.flag, sum.Layout.MinusOneReal, tc.valueList)
		}
	}
	for _, bad := range [][]string{
		{"prepare", "--input", table, "--output", filepath.Join(dir, "x"), "--missing-code", "sometimes"},
		{"cv", "--input", table, "--missing-code", "glucose=maybe"},
		{"cv", "--input", table, "--hp", "missing_code=value,missing"},
		{"synth", "--out", filepath.Join(dir, "y.csv"), "--sign-errors", "1.5"},
	} {
		if r := h.run(bad...); ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: %v, want a usage error", bad, r.err)
		}
	}
	sweep := append([]string{"sweep", "--grid", "missing_code=auto,value", "--manifest", filepath.Join(dir, "m.json")}, base()...)
	if r := h.run(sweep...); ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "takes one value per job") {
		t.Errorf("a grid over missing_code: %v, want a usage error", r.err)
	}
}
