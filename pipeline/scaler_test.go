package pipeline

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

func TestFitScaler(t *testing.T) {
	l := Layout{Analytes: []string{"a", "b"}, EmbeddingDim: 1}
	mk := func(pre, post [2]float32, obs [2]bool, dose float32, unit string) Sample {
		return Sample{Pre: pre[:], PreObserved: obs[:], Post: post[:], PostObserved: []bool{true, obs[1]},
			Embeddings: EmbeddingRows([]float32{0}, 1), Doses: []float32{dose}, Units: []string{unit}}
	}
	two := []Sample{
		mk([2]float32{1, -1}, [2]float32{3, 100}, [2]bool{true, false}, 9, "mg"),
		mk([2]float32{5, 7}, [2]float32{7, -3}, [2]bool{true, true}, float32(math.NaN()), "7"),
	}
	// five copies: the same means and stds from enough values (MinScaleCount) to fit them
	var train []Sample
	for range 5 {
		train = append(train, two...)
	}
	sc, err := FitScaler(train, l)
	if err != nil {
		t.Fatal(err)
	}
	// a: observed 1,3,5,7 -> mean 4, std sqrt(5); b: observed 7, -3 (pre -1 and post 100 unobserved)
	if math.Abs(sc.Mean[0]-4) > 1e-9 || math.Abs(sc.Std[0]-math.Sqrt(5)) > 1e-9 {
		t.Fatalf("a: mean %v std %v", sc.Mean[0], sc.Std[0])
	}
	if math.Abs(sc.Mean[1]-2) > 1e-9 || math.Abs(sc.Std[1]-5) > 1e-9 || sc.Observed[1] != 10 || len(sc.Thin) != 0 {
		t.Fatalf("b: mean %v std %v n %d (unobserved values must not count)", sc.Mean[1], sc.Std[1], sc.Observed[1])
	}
	// one dose value: std falls back to 1, mean is log1p(9)
	if math.Abs(sc.DoseMean-math.Log1p(9)) > 1e-9 || sc.DoseStd != 1 {
		t.Fatalf("dose mean %v std %v", sc.DoseMean, sc.DoseStd)
	}
	if got := sc.ScaleAnalyte(0, 4+float32(math.Sqrt(5))); math.Abs(float64(got)-1) > 1e-6 {
		t.Fatalf("scale %v, want 1", got)
	}
	for _, v := range []float32{-3, 0, 7.25, 1e4} {
		if got := sc.UnscaleAnalyte(1, sc.ScaleAnalyte(1, v)); math.Abs(float64(got-v)) > 1e-3*math.Max(1, math.Abs(float64(v))) {
			t.Fatalf("unscale(scale(%v)) = %v", v, got)
		}
	}
	// the vocabulary is sorted; 0 is reserved for unseen units; numeric codes normalise
	if !slices.Equal(sc.Units, []string{"7", "mg"}) {
		t.Fatalf("units %v", sc.Units)
	}
	for unit, code := range map[string]int{"7": 1, "7.0": 1, "mg": 2, "ml": 0, "": 0} {
		if got := sc.UnitCode(unit); got != code {
			t.Errorf("UnitCode(%q) = %d, want %d", unit, got, code)
		}
	}
	if sc.KnownUnit("ml") || !sc.KnownUnit("mg") {
		t.Fatal("KnownUnit wrong")
	}
}

func TestScalerRxRowAndJSON(t *testing.T) {
	l := Layout{Analytes: []string{"a"}, EmbeddingDim: 3}
	smp := Sample{Pre: []float32{1}, PreObserved: []bool{true}, Post: []float32{2}, PostObserved: []bool{true},
		Embeddings: EmbeddingRows([]float32{0.1, 0.2, 0.3, -1, -2, -3}, 3), Doses: []float32{1, float32(math.NaN())}, Units: []string{"mg", "zz"}}
	other := Sample{Pre: []float32{1}, PreObserved: []bool{true}, Post: []float32{2}, PostObserved: []bool{true},
		Embeddings: EmbeddingRows([]float32{0, 0, 0}, 3), Doses: []float32{99}, Units: []string{"ml"}}
	sc, err := FitScaler([]Sample{other, {Pre: smp.Pre, PreObserved: smp.PreObserved, Post: smp.Post, PostObserved: smp.PostObserved,
		Embeddings: smp.Embeddings[:1], Doses: smp.Doses[:1], Units: smp.Units[:1]}}, l)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, l.RxFeatures())
	sc.RxRow(&smp, 0, dst)
	wantDose := (math.Log1p(1) - sc.DoseMean) / sc.DoseStd
	if !equalF32(dst[:3], []float32{0.1, 0.2, 0.3}, nil) || math.Abs(float64(dst[3])-wantDose) > 1e-6 || dst[4] != 0.5 {
		t.Fatalf("row 0 = %v, want embedding, dose %v, unit mg = code 1 of 2 = 0.5", dst, wantDose)
	}
	sc.RxRow(&smp, 1, dst)
	if !equalF32(dst, []float32{-1, -2, -3, 0, 0}, nil) {
		t.Fatalf("row 1 = %v, want embedding, 0 for the missing dose, 0 for the unseen unit", dst)
	}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var back Scaler
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(l); err != nil {
		t.Fatal(err)
	}
	if back.UnitCode("mg") != sc.UnitCode("mg") || back.ScaleDose(5, "mg") != sc.ScaleDose(5, "mg") || back.ScaleAnalyte(0, 3) != sc.ScaleAnalyte(0, 3) {
		t.Fatal("json round trip changed the scaler")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("RxRow with a wrong-length dst did not panic")
		}
	}()
	sc.RxRow(&smp, 0, make([]float32, 2))
}

// TestFitScalerThinAnalytes: an analyte with fewer than MinScaleCount training values gets
// the fallback scale max(sd, |mean|), so two values 123 and 127 (sd 2) cannot turn one test
// value 37 units off into an error of 18.5 standard units; the thin analytes are listed.
func TestFitScalerThinAnalytes(t *testing.T) {
	l := Layout{Analytes: []string{"ph", "glucose", "never"}, EmbeddingDim: 1}
	var train []Sample
	for i := range 20 {
		s := Sample{Pre: []float32{7.3 + 0.01*float32(i%5), 0, 0}, PreObserved: []bool{true, false, false},
			Post: []float32{7.35, 0, 0}, PostObserved: []bool{true, false, false},
			Embeddings: EmbeddingRows([]float32{0}, 1), Doses: []float32{1}, Units: []string{"mg"}}
		if i < 2 {
			s.Pre[1], s.PreObserved[1] = 123+4*float32(i), true
		}
		train = append(train, s)
	}
	sc, err := FitScaler(train, l)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Observed[0] < MinScaleCount || sc.Std[0] > 0.05 {
		t.Fatalf("ph: %d values, std %v: a well-observed analyte keeps its sample std", sc.Observed[0], sc.Std[0])
	}
	if sc.Mean[1] != 125 || sc.Std[1] != 125 {
		t.Fatalf("glucose (2 values): mean %v std %v, want mean 125 and the fallback scale |mean| = 125", sc.Mean[1], sc.Std[1])
	}
	if sc.Mean[2] != 0 || sc.Std[2] != 1 {
		t.Fatalf("never observed: mean %v std %v, want 0 and 1", sc.Mean[2], sc.Std[2])
	}
	if !slices.Equal(sc.Thin, []string{"glucose", "never"}) || sc.MinCount != MinScaleCount {
		t.Fatalf("thin %v (min count %d), want [glucose never] below %d", sc.Thin, sc.MinCount, MinScaleCount)
	}
	if got := sc.ScaleAnalyte(1, 162) - sc.ScaleAnalyte(1, 125); got > 0.5 {
		t.Fatalf("a glucose value 37 above the mean is %v standard units away; want the fallback to keep it small", got)
	}
	if err := sc.Check(l); err != nil {
		t.Fatal(err)
	}
}

// TestFitScalerConstantAnalyte: fourteen training values that are all 374 have no spread
// to scale by; the analyte is thin (std |mean|), not scaled in raw units (std 1), where a
// test value of 250 would be 124 standard units off.
func TestFitScalerConstantAnalyte(t *testing.T) {
	l := Layout{Analytes: []string{"aado2"}, EmbeddingDim: 1}
	var train []Sample
	for range 7 {
		train = append(train, Sample{Pre: []float32{374}, PreObserved: []bool{true}, Post: []float32{374}, PostObserved: []bool{true},
			Embeddings: EmbeddingRows([]float32{0}, 1), Doses: []float32{1}, Units: []string{"mg"}})
	}
	sc, err := FitScaler(train, l)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Observed[0] != 14 || sc.Std[0] != 374 || !slices.Equal(sc.Thin, []string{"aado2"}) {
		t.Fatalf("14 equal values: std %v, thin %v; want std 374 (|mean|) and aado2 listed as thin", sc.Std[0], sc.Thin)
	}
}
