package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/serve"
)

// TestExplain: launcher explain writes each case's prediction with the effect of every
// prescription row and prints one line per case, row and analyte.
func TestExplain(t *testing.T) {
	h := newHarness(t)
	dir := savedModel(t)
	work := t.TempDir()
	in := filepath.Join(work, "cases.json")
	cases := `{"cases": [{"id": "p1", "pre": {"ph": 7.3, "lactate": 2},
		"prescriptions": [{"drug": "Potassium Chloride", "dose": 20, "unit": "mg"}, {"drug": "Insulin", "dose": 4, "unit": "UNIT"}]}]}`
	if err := os.WriteFile(in, []byte(cases), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "effects.json")
	r := h.run("explain", "--model", dir, "--input", in, "--out", out, "--dose-scale", "0.5", "--analytes", "ph")
	if r.err != nil {
		t.Fatal(r.err, r.stderr)
	}
	var resp serve.Response
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	e := resp.Predictions[0].Effects
	if len(e) != 2 || e[0].Drug != "Potassium Chloride" || e[1].WithScaledDose == nil || e[1].DoseScale != 0.5 {
		t.Fatalf("effects %+v", e)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	// header, one line per row for the one analyte asked, the file line
	if len(lines) != 4 || !strings.Contains(lines[1], "Potassium Chloride") || !strings.Contains(lines[2], "Insulin") ||
		strings.Contains(r.stdout, "lactate") || !strings.Contains(lines[3], "wrote "+out) {
		t.Fatalf("printed:\n%s", r.stdout)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", dir}, "--model and --input are required"},
		{[]string{"--model", dir, "--input", in, "--dose-scale", "-1"}, "--dose-scale"},
		{[]string{"--model", dir, "--input", in, "--analytes", "glucose"}, `"glucose" is not one of`},
		{[]string{"--model", work, "--input", in}, "--model " + work},
	} {
		if r := h.run(append([]string{"explain", "--out", filepath.Join(work, "x.json")}, c.args...)...); r.err == nil || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, r.err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "x.json")); err == nil {
		t.Error("a failed explain wrote its output")
	}
}
