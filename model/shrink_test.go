package model

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// trainedWithChange trains a small pooled-residual model, then gives its output layer
// random weights so that every analyte has a learned change for the shrink to judge.
func trainedWithChange(t *testing.T) (*Model, []pipeline.Sample) {
	t.Helper()
	f := newFixture(t, defaultSynth(), 48, 16, 0)
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	h, err := m.Train(context.Background(), f.train, f.val, trainOpts(3))
	if err != nil {
		t.Fatal(err)
	}
	if h.BestEpoch > 0 && len(h.Shrink) != len(m.cfg.Layout.Analytes) {
		t.Errorf("best epoch %d but %d shrink factors recorded", h.BestEpoch, len(h.Shrink))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range m.specs {
		if s.Name == "out_w" || s.Name == "out_b" {
			for i := s.Off; i < s.Off+s.size(); i++ {
				m.params[i] = float32(r.NormFloat64() * 0.3)
			}
		}
	}
	return m, cloneSamples(f.val)
}

// shrinkOn runs shrinkToBaseline on val (in original units).
func shrinkOn(t *testing.T, m *Model, val []pipeline.Sample) []float64 {
	t.Helper()
	vs, err := m.scaleAll(val, true)
	if err != nil {
		t.Fatal(err)
	}
	factors, err := m.shrinkToBaseline(vs, val)
	if err != nil {
		t.Fatal(err)
	}
	return factors
}

// TestShrinkToBaseline: validation whose analyte 0 did not change (post = pre) and whose
// analyte 1 is exactly what the trained network predicts must scale analyte 0's learned
// change to nothing (the prediction is persistence again) and leave analyte 1's alone.
func TestShrinkToBaseline(t *testing.T) {
	m, val := trainedWithChange(t)
	before, err := m.Predict(val)
	if err != nil {
		t.Fatal(err)
	}
	for i := range val {
		s := &val[i]
		s.Post[0], s.PostObserved[0] = s.Pre[0], s.PreObserved[0]
		s.Post[1], s.PostObserved[1] = before[i][1], true
	}
	factors := shrinkOn(t, m, val)
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

// TestShrinkNeedsMoreThanOneSubject: a change that lowers the validation error overall
// but only through one subject (it hurts every other) falls back to the baseline, and a
// validation split of one subject keeps no change at all.
func TestShrinkNeedsMoreThanOneSubject(t *testing.T) {
	m, val := trainedWithChange(t)
	for i := range val {
		val[i].Pre[1], val[i].PreObserved[1], val[i].PostObserved[1] = 1, true, true
	}
	pred, err := m.Predict(val)
	if err != nil {
		t.Fatal(err)
	}
	// analyte 1: the first half of the samples are subject "carrier", whose post is
	// exactly the prediction; for the other subjects the change went the other way.
	carrier := len(val) / 2
	base := m.sc.UnscaleAnalyte(1, m.sc.ScaleAnalyte(1, 1))
	for i := range val {
		s := &val[i]
		if i < carrier {
			s.Subject, s.Post[1] = "carrier", pred[i][1]
		} else {
			s.Post[1] = base - 0.3*(pred[i][1]-base)
		}
	}
	snapshot := append([]float32(nil), m.params...)
	factors := shrinkOn(t, m, val)
	if factors[1] != 0 {
		t.Errorf("analyte 1 factor %v: its gain rests on one subject, expected 0", factors[1])
	}
	copy(m.params, snapshot)
	for i := range val {
		val[i].Subject = "only"
	}
	for j, f := range shrinkOn(t, m, val) {
		if f != 0 {
			t.Errorf("one validation subject: analyte %d factor %v, expected 0", j, f)
		}
	}
}
