package model

import (
	"math"
	"slices"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestDrugEffectsRecoverTheSyntheticEffects: on synthetic data whose drugs shift each
// analyte by a known amount per log1p(dose), the mean predicted change of each frequent
// drug has the sign of its true mean effect wherever that effect is large, and every
// figure is counted from the held-out cases that have the drug.
func TestDrugEffectsRecoverTheSyntheticEffects(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	sp, f, m := trainEffectsModel(t)
	// name the drugs, as a table with names would
	emb, eff := sp.drugTable(5)
	name := func(ss []pipeline.Sample) {
		for c := range ss {
			s := &ss[c]
			s.Drugs = make([]string, s.NumRx())
			for i := range s.Drugs {
				d := slices.IndexFunc(emb, func(e []float32) bool { return slices.Equal(e, s.Embeddings[i]) })
				s.Drugs[i] = string(rune('A' + d))
			}
		}
	}
	name(f.train)
	name(f.tst)
	got, err := DrugEffects(m, f.train, f.tst, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d drugs, want the 5 most frequent", len(got))
	}
	agree, total := 0, 0
	for k, e := range got {
		d := int(e.Drug[0] - 'A')
		cases := 0
		for _, s := range f.tst {
			if slices.Contains(s.Drugs, e.Drug) {
				cases++
			}
		}
		if e.Cases != cases || (k > 0 && e.TrainRows > got[k-1].TrainRows) || e.MeanTypical == nil || !(e.TypicalDose > 0) {
			t.Fatalf("drug %s: %+v; want %d held-out cases, ordered by training rows, a typical dose", e.Drug, e, cases)
		}
		for j := 0; j < sp.analytes; j++ {
			// the true mean change: effect per log1p(dose) at a median dose of about 1
			truth := eff[d][j] * math.Log1p(1) * float64(j+1)
			if math.Abs(truth) < 0.4*float64(j+1) {
				continue
			}
			total++
			if (e.Mean[j] > 0) == (truth > 0) && (e.MeanTypical[j] > 0) == (truth > 0) {
				agree++
			}
		}
	}
	t.Logf("mean effect sign agrees in %d of %d large drug-analyte effects", agree, total)
	if total < 5 || agree < total*9/10 {
		t.Fatalf("sign agrees in %d of %d large effects", agree, total)
	}
}
