package model

import (
	"context"
	"math"
	"slices"
	"testing"
)

// TestUntrainedIsPersistence: before any training step the pooled-residual network
// predicts the pre value where it was observed and the scaler's training mean where not,
// so the worst a run can return is the post = pre baseline.
func TestUntrainedIsPersistence(t *testing.T) {
	f := newFixture(t, defaultSynth(), 40, 10, 0)
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	smp := cloneSamples(f.val)
	smp[0].PreObserved[0] = false
	pred, err := m.Predict(smp)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range smp {
		for j := range s.Pre {
			// exactly the scaled pre value, unscaled again
			want := m.sc.UnscaleAnalyte(j, 0)
			if s.PreObserved[j] {
				want = m.sc.UnscaleAnalyte(j, m.sc.ScaleAnalyte(j, s.Pre[j]))
			}
			if pred[i][j] != want {
				t.Errorf("sample %d analyte %d (pre observed %v, pre %v): untrained model predicts %v, expected %v",
					i, j, s.PreObserved[j], s.Pre[j], pred[i][j], want)
			}
		}
	}
}

// TestEarlyStoppingConsidersUntrained: validation targets equal to their pre values make
// the untrained (persistence) model perfect on validation while training moves away from
// it; the run must come back with the untrained weights and best epoch 0.
func TestEarlyStoppingConsidersUntrained(t *testing.T) {
	f := newFixture(t, defaultSynth(), 48, 16, 0)
	val := cloneSamples(f.val)
	for i := range val {
		s := &val[i]
		for j := range s.Pre {
			s.Post[j], s.PostObserved[j] = s.Pre[j], s.PreObserved[j]
		}
	}
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	init := slices.Clone(m.params)
	opt := trainOpts(4)
	opt.Patience = 2
	h, err := m.Train(context.Background(), f.train, val, opt)
	if err != nil {
		t.Fatal(err)
	}
	if h.BestEpoch != 0 || h.Stopped != StopEarly || len(h.Epochs) != opt.Patience {
		t.Errorf("best epoch %d, stopped %q after %d epochs; expected best epoch 0 and an early stop after %d",
			h.BestEpoch, h.Stopped, len(h.Epochs), opt.Patience)
	}
	if h.Initial.Epoch != 0 || h.Initial.ValLoss > 1e-10 || math.IsNaN(h.Initial.ValLoss) {
		t.Errorf("initial validation figures %+v, expected epoch 0 with loss ~0", h.Initial)
	}
	for _, e := range h.Epochs {
		if e.ValLoss <= h.Initial.ValLoss {
			t.Errorf("epoch %d validation loss %v is not worse than the untrained model's %v: the test does not exercise epoch 0",
				e.Epoch, e.ValLoss, h.Initial.ValLoss)
		}
	}
	if !slices.Equal(m.params, init) {
		t.Error("the untrained model was best but the trained weights were kept")
	}
}
