package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// missingCodeTable: base excess takes negative values, so its -1 is a real value; ph and
// glucose cannot be negative, so their -1 means missing; a dose of -1 is a missing dose.
const missingCodeTable = `subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,pre_baseexcess,pre_glucose,post_ph,post_baseexcess,post_glucose,P0,P1
1,2125-10-05T00:00:00,-1,mg,7.30,-1.0,-1.0,7.31,-2,140,0.1,0.2
2,2125-10-06T00:00:00,60,mg,-1,0,120,7.35,-1,-1.0,0.3,0.4
3,2125-10-07T00:00:00,5,mg,7.40,3,110,-1.0,1,-1,0.5,0.6
`

func TestMinusOneMissingPerColumn(t *testing.T) {
	ds, rep, err := ReadTable(context.Background(), "t.csv", strings.NewReader(missingCodeTable), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Layout.MinusOneReal, []string{"baseexcess"}) {
		t.Fatalf("layout: -1 real for %v, want [baseexcess]", ds.Layout.MinusOneReal)
	}
	s := ds.Samples
	// base excess: -1 observed as a value, pre and post
	if !s[0].PreObserved[1] || s[0].Pre[1] != -1 || !s[1].PostObserved[1] || s[1].Post[1] != -1 {
		t.Errorf("base excess -1 read as missing: sample 1 pre %v/%v, sample 2 post %v/%v", s[0].Pre[1], s[0].PreObserved[1], s[1].Post[1], s[1].PostObserved[1])
	}
	// ph and glucose: -1 missing
	if s[0].PreObserved[2] || s[1].PreObserved[0] || s[1].PostObserved[2] || s[2].PostObserved[0] || s[2].PostObserved[2] {
		t.Error("-1 in a column that cannot be negative was read as a value")
	}
	if !math.IsNaN(float64(s[0].Doses[0])) || s[1].Doses[0] != 60 {
		t.Errorf("doses %v, %v: want -1 read as a missing dose", s[0].Doses[0], s[1].Doses[0])
	}
	if rep.MissingDoses != 1 {
		t.Errorf("report counts %d missing doses, want 1", rep.MissingDoses)
	}
	got := map[string]MissingCode{}
	for _, m := range rep.MissingCodes {
		got[m.Analyte] = m
	}
	if m := got["baseexcess"]; m.MinusOneMissing || m.MinusOnes != 2 || m.OtherNegatives != 1 {
		t.Errorf("base excess decision %+v, want -1 kept as a value (2 cells, 1 other negative)", m)
	}
	if m := got["glucose"]; !m.MinusOneMissing || m.MinusOnes != 3 {
		t.Errorf("glucose decision %+v, want -1 missing (3 cells)", m)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "-1 kept as a value in: baseexcess") {
		t.Errorf("report text lacks the per-column decision:\n%s", b.String())
	}

	// read against a layout, the layout's decision holds whatever the rows show
	l := ds.Layout
	l.MinusOneReal = nil
	ds2, _, err := ReadTable(context.Background(), "t.csv", strings.NewReader(missingCodeTable), ReadOptions{Request: RequestOptions{Layout: &l}})
	if err != nil {
		t.Fatal(err)
	}
	if ds2.Samples[0].PreObserved[1] {
		t.Error("with a layout that lists no -1-real analyte, base excess -1 must be missing")
	}
}

// TestMinusOneDecided: a reader told the decision (the trainer's other channels, prepare's
// later splits) applies it instead of deciding from its own rows.
func TestMinusOneDecided(t *testing.T) {
	ds, _, err := ReadTable(context.Background(), "t.csv", strings.NewReader(missingCodeTable), ReadOptions{MinusOneDecided: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Samples[0].PreObserved[1] || len(ds.Layout.MinusOneReal) != 0 {
		t.Fatalf("decided: no analyte keeps -1, yet base excess -1 observed %v (layout %v)", ds.Samples[0].PreObserved[1], ds.Layout.MinusOneReal)
	}
	ds, _, err = ReadTable(context.Background(), "t.csv", strings.NewReader(missingCodeTable), ReadOptions{MinusOneDecided: true, MinusOneReal: []string{"glucose"}})
	if err != nil {
		t.Fatal(err)
	}
	if !ds.Samples[0].PreObserved[2] || ds.Samples[0].Pre[2] != -1 {
		t.Fatal("decided: glucose keeps -1 as a value")
	}
}

// TestPreparePreSplitSharesTheDecision: pre-split inputs are read one split at a time;
// the later splits read -1.0 as the train split decided.
func TestPreparePreSplitSharesTheDecision(t *testing.T) {
	dir := t.TempDir()
	lines := strings.SplitAfter(missingCodeTable, "\n")
	trainP, testP := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	// train: subjects 1 and 3 (base excess -2 and 3: negatives seen); test: subject 2, whose
	// only negative base excess is the post value -1
	os.WriteFile(trainP, []byte(lines[0]+lines[1]+lines[3]), 0o644)
	os.WriteFile(testP, []byte(lines[0]+lines[2]), 0o644)
	out := filepath.Join(dir, "out")
	if _, err := Prepare(context.Background(), PrepareOptions{Inputs: []string{"train=" + trainP, "test=" + testP}, Output: out}); err != nil {
		t.Fatal(err)
	}
	ds, _, err := ReadPrepared(context.Background(), filepath.Join(out, "test"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := ds.Samples[0]; !s.PostObserved[1] || s.Post[1] != -1 {
		t.Fatalf("test split: base excess post %v observed %v; want -1 as a value, as train decided", s.Post[1], s.PostObserved[1])
	}
}
