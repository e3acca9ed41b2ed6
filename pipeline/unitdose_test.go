package pipeline

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestUnitDoses: units with enough training doses are scaled by their own log-dose mean
// and std (a usual dose of each reads as 0), rarer units and missing doses as before; the
// scaler says so in its version, so a reader without unit scales refuses it, and a
// damaged list is refused.
func TestUnitDoses(t *testing.T) {
	var train []Sample
	add := func(unit string, dose float32, n int) {
		for i := 0; i < n; i++ {
			train = append(train, Sample{Pre: []float32{1}, PreObserved: []bool{true}, Post: []float32{1}, PostObserved: []bool{true},
				Embeddings: [][]float32{{0}}, Doses: []float32{dose * float32(1+i%2)}, Units: []string{unit}})
		}
	}
	add("mEq", 40, MinUnitDoses)
	add("mL", 1000, MinUnitDoses)
	add("g", 2, MinUnitDoses-1)
	l := Layout{Analytes: []string{"k"}, EmbeddingDim: 1}
	sc, err := FitScaler(train, l)
	if err != nil {
		t.Fatal(err)
	}
	all := *sc
	sc.FitUnitDoses(train)
	if len(sc.UnitDoses) != 2 || sc.UnitDoses[0].Unit != "meq" && sc.UnitDoses[0].Unit != "mEq" {
		t.Fatalf("unit scales %+v: want mEq and mL (g has %d doses)", sc.UnitDoses, MinUnitDoses-1)
	}
	// the middle of each unit's two doses reads as 0 with its own scale, not with all doses'
	for _, c := range []struct {
		unit string
		mid  float64
	}{{"mEq", 60}, {"mL", 1500}} {
		mean := (doseTransform(float32(c.mid/1.5)) + doseTransform(float32(c.mid/0.75))) / 2
		if got := sc.ScaleDose(float32(math.Expm1(mean)), c.unit); math.Abs(float64(got)) > 1e-4 {
			t.Errorf("%s: a dose at its unit's mean scales to %v, want 0", c.unit, got)
		}
	}
	if sc.ScaleDose(2, "g") != all.ScaleDose(2, "g") || sc.ScaleDose(float32(math.NaN()), "mEq") != 0 {
		t.Error("a rare unit or a missing dose is scaled differently from before")
	}
	if err := sc.Check(l); err != nil {
		t.Fatalf("fitted scaler: %v", err)
	}
	old := *sc
	old.Version = ScalerVersion // a scaler claiming the old version with unit scales
	if err := old.Check(l); err == nil || !strings.Contains(err.Error(), "unit dose") {
		t.Errorf("version %d with unit scales: %v", ScalerVersion, err)
	}
	data, _ := json.Marshal(sc)
	var back Scaler
	if err := json.Unmarshal(data, &back); err != nil || back.Check(l) != nil || back.ScaleDose(50, "mL") != sc.ScaleDose(50, "mL") {
		t.Fatalf("round trip: %v", err)
	}
	back.UnitDoses[1].Std = 0
	if err := back.Check(l); err == nil {
		t.Error("a unit scale of std 0 was accepted")
	}
}
