package model

import (
	"context"
	"math"
	"testing"
)

// TestShrinkToBaseline: validation whose analyte 0 did not change (post = pre) and whose
// analyte 1 is exactly what the trained network predicts must scale analyte 0's learned
// change to nothing (the prediction is persistence again) and leave analyte 1's alone.
func TestShrinkToBaseline(t *testing.T) {
	f := newFixture(t, defaultSynth(), 48, 16, 0)
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	h, err := m.Train(context.Background(), f.train, f.val, trainOpts(3))
	if err != nil {
		t.Fatal(err)
	}
	if h.BestEpoch > 0 && len(h.Shrink) != len(m.cfg.Layout.Analytes) {
		t.Errorf("best epoch %d but %d shrink factors recorded", h.BestEpoch, len(h.Shrink))
	}
	val := cloneSamples(f.val)
	before, err := m.Predict(val)
	if err != nil {
		t.Fatal(err)
	}
	for i := range val {
		s := &val[i]
		s.Post[0], s.PostObserved[0] = s.Pre[0], s.PreObserved[0]
		s.Post[1], s.PostObserved[1] = before[i][1], true
	}
	vs, err := m.scaleAll(val, true)
	if err != nil {
		t.Fatal(err)
	}
	factors, err := m.shrinkToBaseline(vs)
	if err != nil {
		t.Fatal(err)
	}
	if factors[0] != 0 || math.Abs(factors[1]-1) > 1e-3 {
		t.Fatalf("factors %v..., expected 0 for the unchanged analyte and 1 for the predicted one", factors[:2])
	}
	after, err := m.Predict(val)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range val {
		want := m.sc.UnscaleAnalyte(0, 0)
		if s.PreObserved[0] {
			want = m.sc.UnscaleAnalyte(0, m.sc.ScaleAnalyte(0, s.Pre[0]))
		}
		if after[i][0] != want {
			t.Errorf("sample %d analyte 0: %v after shrinking, expected persistence %v", i, after[i][0], want)
		}
		if d := math.Abs(float64(after[i][1] - before[i][1])); d > 1e-3*math.Max(1, math.Abs(float64(before[i][1]))) {
			t.Errorf("sample %d analyte 1: %v after shrinking, was %v", i, after[i][1], before[i][1])
		}
	}
}
