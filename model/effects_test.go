package model

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestEffectsAreThePredictionsOfEachVariant: every number Effects returns is the plain
// prediction of the case it stands for (the case, the case without row i, the case with
// row i's dose scaled), so its bookkeeping cannot pair a variant with another's answer.
func TestEffectsAreThePredictionsOfEachVariant(t *testing.T) {
	f := newFixture(t, defaultSynth(), 60, 0, 6)
	m := mustNew(t, f.config(ArchPooledResidual), f, 3)
	cases := slices.Clone(f.tst)
	cases[1].Doses = slices.Clone(cases[1].Doses)
	cases[1].Doses[0] = float32(math.NaN()) // a missing dose has nothing to scale
	got, err := m.Effects(cases, 2)
	if err != nil {
		t.Fatal(err)
	}
	for c := range cases {
		s := &cases[c]
		want, err := m.Predict([]pipeline.Sample{*s})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[c].With, want[0]) {
			t.Fatalf("case %d: with %v, want %v", c, got[c].With, want[0])
		}
		for i := 0; i < s.NumRx(); i++ {
			w, err := m.Predict([]pipeline.Sample{withoutRow(s, i)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[c].Without[i], w[0]) {
				t.Fatalf("case %d row %d: without %v, want %v", c, i, got[c].Without[i], w[0])
			}
			if math.IsNaN(float64(s.Doses[i])) {
				if got[c].Scaled[i] != nil {
					t.Fatalf("case %d row %d: a missing dose was scaled", c, i)
				}
				continue
			}
			sc, err := m.Predict([]pipeline.Sample{withDose(s, i, 2*s.Doses[i])})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[c].Scaled[i], sc[0]) {
				t.Fatalf("case %d row %d: scaled %v, want %v", c, i, got[c].Scaled[i], sc[0])
			}
		}
	}
	if _, err := m.Effects(cases, 1); err != nil {
		t.Fatal(err)
	}
	if e, _ := m.Effects(cases[:1], 1); e[0].Scaled != nil {
		t.Error("scale 1 still computed scaled variants")
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := m.Effects(cases, bad); err == nil || !strings.Contains(err.Error(), "dose scale") {
			t.Errorf("dose scale %v: error %v", bad, err)
		}
	}
	empty := cases[0]
	empty.Embeddings, empty.Doses, empty.Units = nil, nil, nil
	if _, err := m.Effects([]pipeline.Sample{empty}, 1); err == nil || !strings.Contains(err.Error(), "no prescription rows") {
		t.Errorf("a case without rows: error %v", err)
	}
}

// trainEffectsModel trains a small pooled-residual network on synthetic data whose drugs
// shift each analyte by a known amount, for the tests of what it learnt of the drugs.
func trainEffectsModel(t *testing.T) (synthSpec, *fixture, *Model) {
	t.Helper()
	sp := defaultSynth()
	f := newFixture(t, sp, 800, 150, 200)
	cfg := f.config(ArchPooledResidual)
	cfg.EncoderUnits, cfg.LSTMUnits = 32, 32
	m := mustNew(t, cfg, f, 1)
	opt := trainOpts(80)
	opt.BatchSize, opt.LearningRate, opt.Patience = 32, 0.005, 20
	if _, err := m.Train(context.Background(), f.train, f.val, opt); err != nil {
		t.Fatal(err)
	}
	return sp, f, m
}

// TestEffectsFollowTheTrueDrugEffect: on synthetic data whose drugs shift each analyte by
// a known amount, the effect the trained model gives a row (with it minus without it)
// agrees in sign with the row's true effect wherever that effect is large.
func TestEffectsFollowTheTrueDrugEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	sp, f, m := trainEffectsModel(t)
	emb, eff := sp.drugTable(5)
	var multi []pipeline.Sample
	for _, s := range f.tst {
		if s.NumRx() >= 2 {
			multi = append(multi, s)
		}
	}
	got, err := m.Effects(multi, 1)
	if err != nil {
		t.Fatal(err)
	}
	agree, total := 0, 0
	for c, s := range multi {
		for i := 0; i < s.NumRx(); i++ {
			d := slices.IndexFunc(emb, func(e []float32) bool { return slices.Equal(e, s.Embeddings[i]) })
			for j := 0; j < sp.analytes; j++ {
				truth := eff[d][j] * math.Log1p(float64(s.Doses[i])) // standard deviations
				if math.Abs(truth) < 0.5 {
					continue
				}
				total++
				if (got[c].Effect(i, j) > 0) == (truth > 0) {
					agree++
				}
			}
		}
	}
	t.Logf("sign agrees in %d of %d large row effects", agree, total)
	if total < 50 || float64(agree) < 0.85*float64(total) {
		t.Fatalf("sign agrees in %d of %d large row effects; want at least 85%% of at least 50", agree, total)
	}
}
