package mimic

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// demoDir is the shared MIMIC demo copy, next to the repository; tests that need it skip
// when it is absent (CI, a fresh clone).
func demoDir(t testing.TB, name string) string {
	dir := filepath.Join("..", "..", "..", "shared", "mimic", name)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s absent: %v", dir, err)
	}
	return dir
}

// TestDemoIVChemistry checks the target on the MIMIC-IV demo: at least 5,000
// groups with a potassium pair from all 100 subjects, none across admissions, every
// gap within the windows.
func TestDemoIVChemistry(t *testing.T) {
	dir := demoDir(t, "mimic-iv-demo-2.2")
	ds, rep, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Log(text.String())
	var k *pipeline.AnalytePairs
	for i := range rep.Pairs.Analytes {
		if rep.Pairs.Analytes[i].Analyte == "potassium" {
			k = &rep.Pairs.Analytes[i]
		}
	}
	if k == nil || k.Pairs < 5000 || k.PairSubjects != 100 {
		t.Fatalf("potassium pairs %+v; want >= 5000 groups from 100 subjects", k)
	}
	if rep.Pairs.CrossAdmission != 0 {
		t.Fatalf("%d values across admissions; want 0", rep.Pairs.CrossAdmission)
	}
	for _, a := range rep.Pairs.Analytes {
		if a.PreHours.Max > 24 || a.PostHours.Max > 24 {
			t.Fatalf("%s gaps %+v / %+v outside the windows", a.Analyte, a.PreHours, a.PostHours)
		}
	}
	if len(ds.Samples) != rep.Groups {
		t.Fatalf("%d samples, report says %d groups", len(ds.Samples), rep.Groups)
	}
}
