package model

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// namedSamples makes n groups of one row each, drug names from pick; every drug has the
// same embedding, so only its name tells drugs apart. effect[name] is added to the change.
func namedSamples(n int, seed uint64, pick func(r *rand.Rand) string, effect map[string]float32) []pipeline.Sample {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]pipeline.Sample, n)
	for i := range out {
		d := pick(r)
		pre := float32(r.NormFloat64())
		out[i] = pipeline.Sample{Subject: "s" + strconv.Itoa(i%50) + "-" + strconv.FormatUint(seed, 10), Start: "2020-01-01",
			Pre: []float32{pre}, PreObserved: []bool{true},
			Post: []float32{pre + effect[d] + 0.1*float32(r.NormFloat64())}, PostObserved: []bool{true},
			Embeddings: [][]float32{{0.5, -0.5}}, Doses: []float32{1}, Units: []string{"mg"}, Drugs: []string{d}}
	}
	return out
}

func TestDrugVocabulary(t *testing.T) {
	// drug: subjects given it; every subject has three groups with it (one row twice)
	subjects := map[string]int{"KCl (PO)": 12, "Insulin (SC)": 30, "Heparin": 12, "Rare": MinDrugSubjects - 1}
	var train []pipeline.Sample
	for d, n := range subjects {
		for i := 0; i < n; i++ {
			for g := 0; g < 3; g++ {
				train = append(train, pipeline.Sample{Subject: d + strconv.Itoa(i), Drugs: []string{" " + d + " ", d}})
			}
		}
	}
	train = append(train, pipeline.Sample{Subject: "x"}) // a table that names no drugs
	cfg := Config{LinearBase: LinearRidge, LearnedDrugs: 10}
	if got, want := DrugVocabulary(cfg, train).Drugs, []string{"Insulin (SC)", "Heparin", "KCl (PO)"}; !slices.Equal(got, want) {
		t.Errorf("vocabulary %q, want %q (by subjects, ties by name, %d subjects at least)", got, want, MinDrugSubjects)
	}
	cfg.LearnedDrugs = 2
	if got := DrugVocabulary(cfg, train).Drugs; !slices.Equal(got, []string{"Insulin (SC)", "Heparin"}) {
		t.Errorf("learned_drugs=2: %q", got)
	}
	cfg.LearnedDrugs = 0
	if got := DrugVocabulary(cfg, train).Drugs; got != nil {
		t.Errorf("learned_drugs=0: %q", got)
	}
	cfg = Config{LearnedDrugs: 10}
	if got := DrugVocabulary(cfg, train).Drugs; got != nil {
		t.Errorf("without the linear base: %q", got)
	}
	l := pipeline.Layout{Analytes: []string{"k"}, EmbeddingDim: 2, BlockRows: 4, BlockFeatures: 4}
	for _, bad := range []Config{
		{Architecture: ArchSeed, LinearBase: LinearRidge},
		{Drugs: []string{"a"}},
		{LinearBase: LinearRidge, Drugs: []string{"a", "a"}},
		{LinearBase: LinearRidge, Drugs: []string{" a"}},
		{LinearBase: LinearRidge, LearnedDrugs: MaxDrugs + 1},
	} {
		bad.LSTMUnits, bad.EncoderUnits, bad.Layout = 2, 2, l
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "linear_base") && !strings.Contains(err.Error(), "drugs") {
			t.Errorf("%+v: error %v, want one naming the linear base or the drugs", bad, err)
		}
	}
}

// TestLearnedDrugsSeparateWhatTheEmbeddingCannot: two drugs with the same embedding
// move the analyte in opposite directions. Through the embedding the network can only
// learn their average; with learned_drugs each gets its own effect, with its sign.
func TestLearnedDrugsSeparateWhatTheEmbeddingCannot(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two networks")
	}
	effect := map[string]float32{"up": 1, "down": -1}
	pick := func(r *rand.Rand) string { return []string{"up", "down"}[r.IntN(2)] }
	train, val, test := namedSamples(400, 1, pick, effect), namedSamples(100, 2, pick, effect), namedSamples(100, 3, pick, effect)
	l := pipeline.Layout{Analytes: []string{"k"}, EmbeddingDim: 2}
	sc, err := pipeline.FitScaler(train, l)
	if err != nil {
		t.Fatal(err)
	}
	learnt := func(learned int) map[string]float64 {
		cfg := DrugVocabulary(Config{LSTMUnits: 8, EncoderUnits: 8, Layout: l, LinearBase: LinearRidge, LearnedDrugs: learned}, train)
		m, err := New(cfg, sc, 1)
		if err != nil {
			t.Fatal(err)
		}
		opt := trainOpts(40)
		opt.LearningRate = 0.02
		if _, err := m.Train(context.Background(), train, val, opt); err != nil {
			t.Fatal(err)
		}
		eff, err := m.Effects(test, 1)
		if err != nil {
			t.Fatal(err)
		}
		sum, n := map[string]float64{}, map[string]float64{}
		for c := range test {
			sum[test[c].Drugs[0]] += float64(eff[c].Effect(0, 0))
			n[test[c].Drugs[0]]++
		}
		for d := range sum {
			sum[d] /= n[d]
		}
		return sum
	}
	off, on := learnt(0), learnt(2)
	t.Logf("mean effect without learned drugs %v, with %v (true: up +1, down -1)", off, on)
	if on["up"] < 0.7 || on["down"] > -0.7 {
		t.Errorf("with learned drugs: up %+.2f, down %+.2f; want about +1 and -1", on["up"], on["down"])
	}
	if d := off["up"] - off["down"]; d > 0.2 || d < -0.2 {
		t.Errorf("without learned drugs the two drugs differ by %.2f: the test no longer isolates the path", d)
	}
}
