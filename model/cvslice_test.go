package model

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestCrossValidateSlicesAndAnalytes: the per-analyte scores pool exactly the cells the
// folds' overall scores pool, a drug slice counts every group with the drug once, and
// the effect the model learned for a drug with a large known effect has its sign.
func TestCrossValidateSlicesAndAnalytes(t *testing.T) {
	sp := defaultSynth()
	samples := sp.generate(300, 3, 5)
	emb, eff := sp.drugTable(5)
	// the drug and analyte with the largest effect per log1p(dose)
	drug, an := 0, 0
	for d := range eff {
		for j := range eff[d] {
			if math.Abs(eff[d][j]) > math.Abs(eff[drug][an]) {
				drug, an = d, j
			}
		}
	}
	name := func(d int) string { return "Drug " + string(rune('A'+d)) }
	withDrug, targets := 0, 0
	for i := range samples {
		s := &samples[i]
		s.Subject = "p" + string(rune('a'+i%60)) + string(rune('a'+i%7))
		s.Drugs = make([]string, s.NumRx())
		for r := range s.Drugs {
			d := slices.IndexFunc(emb, func(e []float32) bool { return slices.Equal(e, s.Embeddings[r]) })
			s.Drugs[r] = name(d)
		}
		if slices.Contains(s.Drugs, name(drug)) {
			withDrug++
			if s.PostObserved[an] {
				targets++
			}
		}
	}
	opt := CVOptions{Folds: 3, Seed: 7, ValidationFraction: 0.2, Parallel: 2,
		Config: Config{LSTMUnits: 16, EncoderUnits: 16, Layout: sp.layout()},
		Train:  TrainOptions{Epochs: 40, BatchSize: 16, LearningRate: 0.01, Patience: 10},
		Slices: []Slice{{Drug: strings.ToLower(name(drug)), Analyte: "AN" + string(rune('0'+an))}}}
	res, err := CrossValidate(context.Background(), samples, opt)
	if err != nil {
		t.Fatal(err)
	}
	// per analyte, pooled, against the folds' overall RMSEs, pooled
	for _, m := range cvMethods {
		var foldSE, anSE float64
		n, an := 0, 0
		for _, f := range res.PerFold {
			foldSE += f.RMSE[m] * f.RMSE[m] * float64(f.Targets)
			n += f.Targets
		}
		for _, a := range res.PerAnalyte {
			anSE += a.RMSE[m] * a.RMSE[m] * float64(a.Targets)
			an += a.Targets
		}
		if n != an || math.Abs(foldSE-anSE) > 1e-6*foldSE {
			t.Fatalf("%s: per-analyte cells %d (SE %.6g), folds' cells %d (SE %.6g)", m, an, anSE, n, foldSE)
		}
	}
	sl := res.Slices[0]
	truth := eff[drug][an]
	t.Logf("slice %s on %s: %d cases, %d targets, MAE %v, effect %.3f (%.0f%% rises), true effect %.2f sd per log1p(dose)",
		sl.Drug, sl.Analyte, sl.Cases, sl.Targets, sl.MAE, sl.EffectMean, 100*sl.EffectPositiveShare, truth)
	if sl.Cases != withDrug || sl.Targets != targets || sl.Analyte != "an"+string(rune('0'+an)) {
		t.Fatalf("slice has %d cases and %d targets, want %d and %d", sl.Cases, sl.Targets, withDrug, targets)
	}
	if (sl.EffectMean > 0) != (truth > 0) || math.Abs(sl.EffectPositiveShare-0.5) < 0.3 {
		t.Errorf("learned effect %.3f with %.0f%% rises; the true effect is %.2f", sl.EffectMean, 100*sl.EffectPositiveShare, truth)
	}
	if !(sl.MAE[MethodModel] < sl.MAE[MethodPersistence]) {
		t.Errorf("slice MAE: model %.3f, post = pre %.3f", sl.MAE[MethodModel], sl.MAE[MethodPersistence])
	}

	opt.Slices = []Slice{{Drug: "x", Analyte: "glucose"}}
	if _, err := CrossValidate(context.Background(), samples, opt); err == nil || !strings.Contains(err.Error(), `analyte "glucose" is not in the data`) {
		t.Errorf("a slice on an unknown analyte: %v", err)
	}
}

// TestHasDrugMatchesNameWithRoute: a slice's drug matches rows named by it alone or with a
// route after it, whatever the case, and no other drug that merely starts with it.
func TestHasDrugMatchesNameWithRoute(t *testing.T) {
	s := pipeline.Sample{Drugs: []string{"Potassium Chloride (IV)", "potassium chloride", "Potassium Chloride Replacement (PO)", "Insulin (SC)", "Potassium Chloride (IV"}}
	if got := hasDrug(&s, "Potassium Chloride"); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("rows %v, want [0 1]", got)
	}
}
