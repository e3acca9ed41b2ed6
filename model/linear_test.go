package model

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestLinearBaseStartsAtTheRidge: with the linear base, the untrained network predicts
// what a ridge fitted on the same samples with the same drug counts predicts (where the
// pre value was seen, the ridge's own rule elsewhere differs by design), and training
// never moves the base: the optimiser only sees the network around it.
func TestLinearBaseStartsAtTheRidge(t *testing.T) {
	f := newFixture(t, defaultSynth(), 300, 60, 60)
	for i := range f.train { // name the drugs so some get learned coefficients
		f.train[i].Drugs = drugNames(f.train[i].NumRx(), i)
	}
	for i := range f.tst {
		f.tst[i].Drugs = drugNames(f.tst[i].NumRx(), i)
	}
	cfg := DrugVocabulary(Config{LSTMUnits: 8, EncoderUnits: 8, Layout: f.spec.layout(), LinearBase: LinearRidge, LearnedDrugs: 2}, f.train)
	if len(cfg.Drugs) != 2 {
		t.Fatalf("drugs %q, want 2", cfg.Drugs)
	}
	m := mustNew(t, cfg, f, 1)
	if _, err := m.fitLinearBase(context.Background(), f.train, 3); err != nil {
		t.Fatal(err)
	}
	r, err := fitRidge(f.train, f.sc, cfg.Layout, newRidgeDrugs(m.drugIdx, f.train), 3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(f.tst)
	if err != nil {
		t.Fatal(err)
	}
	want := r.Predict(f.tst)
	checked := 0
	for i := range f.tst {
		for j, seen := range f.tst[i].PreObserved {
			if !seen {
				continue
			}
			checked++
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-3*(1+math.Abs(float64(want[i][j]))) {
				t.Fatalf("sample %d analyte %d: network %v, ridge %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	if checked == 0 {
		t.Fatal("no pre values to compare")
	}
	spec, _ := m.spec("lin_w")
	fitted := slices.Clone(m.params[spec.Off : spec.Off+spec.size()])
	opt := trainOpts(3)
	opt.WeightDecay = 0.01
	hist, err := m.Train(context.Background(), f.train, f.val, opt)
	if err != nil {
		t.Fatal(err)
	}
	after, a := m.params[spec.Off:spec.Off+spec.size()], spec.Cols
	kept := 0
	for j, keep := range hist.LinearKept {
		if keep {
			kept++
		}
		for r := 0; r < spec.Rows; r++ {
			want := fitted[r*a+j]
			if !keep {
				want = 0
			}
			if after[r*a+j] != want {
				t.Fatalf("analyte %d (kept %v) row %d: base %v after training, want %v: training moved it", j, keep, r, after[r*a+j], want)
			}
		}
	}
	if len(hist.LinearKept) != a || kept == 0 {
		t.Fatalf("kept %v: on data with linear drug effects the base should stay for some analytes", hist.LinearKept)
	}
}

// drugNames names n rows after two drugs, alternating by sample.
func drugNames(n, i int) []string {
	out := make([]string, n)
	for k := range out {
		out[k] = []string{"A (PO)", "B (IV)"}[(i+k)%2]
	}
	return out
}

// TestLinearBaseDroppedWhereItHurts: a base that makes validation worse than post = pre
// is zeroed for those analytes, so the network starts from post = pre there.
func TestLinearBaseDroppedWhereItHurts(t *testing.T) {
	f := newFixture(t, defaultSynth(), 200, 60, 0)
	m := mustNew(t, Config{LSTMUnits: 8, EncoderUnits: 8, Layout: f.spec.layout(), LinearBase: LinearRidge}, f, 1)
	spec, _ := m.spec("lin_w")
	w, a := m.params[spec.Off:spec.Off+spec.size()], spec.Cols
	for r := 0; r < spec.Rows; r++ {
		w[r*a] = 0   // analyte 0: no base; gains nothing, so it is not kept
		w[r*a+1] = 5 // analyte 1: wild
	}
	vs, err := m.scaleAll(f.val, true)
	if err != nil {
		t.Fatal(err)
	}
	kept := m.keepLinearBase(vs, f.val)
	if kept[0] || kept[1] {
		t.Fatalf("kept %v: a zero and a wild base must not stay", kept)
	}
	for r := 0; r < spec.Rows; r++ {
		if w[r*a+1] != 0 {
			t.Fatal("the wild base was not zeroed")
		}
	}
}

// TestFitScalerDoseScale: dose_scale_by=unit gives frequent units their own dose scale, the
// default does not, and a model keeps its scaler's unit scales through Save and Load.
func TestFitScalerDoseScale(t *testing.T) {
	f := newFixture(t, defaultSynth(), 200, 0, 0)
	cfg := f.config(ArchPooledResidual)
	sc, err := FitScaler(cfg, f.train)
	if err != nil || len(sc.UnitDoses) != 0 {
		t.Fatalf("default: %d unit scales, %v", len(sc.UnitDoses), err)
	}
	cfg.DoseScaleBy = DoseScaleByUnit
	if sc, err = FitScaler(cfg, f.train); err != nil || len(sc.UnitDoses) == 0 {
		t.Fatalf("dose_scale_by=unit: %d unit scales, %v", len(sc.UnitDoses), err)
	}
	m, err := New(cfg, sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Scaler().UnitDoses, sc.UnitDoses) || back.Config().DoseScaleBy != DoseScaleByUnit {
		t.Fatalf("loaded: unit scales %v, dose_scale_by %q", back.Scaler().UnitDoses, back.Config().DoseScaleBy)
	}
	cfg.DoseScaleBy = "per-drug"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "dose_scale_by") {
		t.Errorf("dose_scale_by per-drug: %v", err)
	}
}
