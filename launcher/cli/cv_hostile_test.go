package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/model"
)

var cvTable = filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")

// P3: --output is checked before any fold trains.
func TestCVOutputCheckedFirst(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "cv")
	os.WriteFile(file, []byte("mine"), 0o644)
	jsonDir := t.TempDir()
	os.Mkdir(filepath.Join(jsonDir, cvJSONFile), 0o755)
	for _, tt := range []struct{ out, want string }{
		{file, "exists and is not a folder"},
		{jsonDir, "cv.json is a folder"},
	} {
		r := h.run("cv", "--input", cvTable, "--folds", "2", "--epochs", "1", "--output", tt.out)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("--output %s: %v, want %q", tt.out, r.err, tt.want)
		}
		if strings.Contains(r.stdout, "fold 1:") {
			t.Errorf("--output %s: a fold trained before the check", tt.out)
		}
	}
}

// P3: cv.json and cv.png are written as a pair: a chart that cannot be written
// leaves no new cv.json.
func TestCVOutputsWrittenTogether(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, cvChartFile, "x"), 0o755) // appeared during the run
	res := &model.CVResult{Folds: 2, PerFold: []model.FoldResult{{Fold: 1}, {Fold: 2}}}
	if err := writeCVOutputs(dir, map[string]int{"folds": 2}, res); err == nil {
		t.Fatal("no error with cv.png a folder")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != cvChartFile {
		t.Errorf("left in --output: %v", entries)
	}
}

// P6: validation_fraction is bounded by its own range in cv, not by a
// test_fraction cv forbids the user to set.
func TestCVValidationFractionNotLimitedByTestFraction(t *testing.T) {
	h := newHarness(t)
	r := h.run("cv", "--input", filepath.Join(t.TempDir(), "missing.csv"), "--hp", "validation_fraction=0.9", "--output", t.TempDir())
	if r.err == nil || strings.Contains(r.err.Error(), "test_fraction") || ExitCode(r.err) == ExitUsage {
		t.Errorf("err = %v; want the missing input reported, not test_fraction", r.err)
	}
}

// P10: cv reports groups whose rows disagree, as prepare does.
func TestCVReportsInconsistentGroups(t *testing.T) {
	data, err := os.ReadFile(cvTable)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 4)
	// lines 2 and 3 are one group (subject 10000, 2131-11-03): give line 3 another pre_ph
	lines[2] = strings.Replace(lines[2], ",7.3973,", ",7.1,", 1)
	table := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(table, []byte(strings.Join(lines, "\n")), 0o644)
	h := newHarness(t)
	r := h.run("cv", "--input", table, "--folds", "2", "--epochs", "1", "--hp", "lstm_units=4", "--output", t.TempDir())
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stderr, "inconsistent groups: 1 (first row's pre/post values used)") {
		t.Errorf("stderr lacks the inconsistent group:\n%s", r.stderr)
	}
}
