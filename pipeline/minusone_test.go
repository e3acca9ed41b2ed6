package pipeline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// shapeColumn is one analyte of a generated table in the original format.
type shapeColumn struct {
	name string
	// value draws an observed value
	value func(r *rand.Rand) float64
	// missing is the share of cells written as -1.0; empty is the share left empty
	missing, empty float64
	// strays are observed cells overwritten with a negative value (entry errors, noise)
	strays int
}

// shapeTable writes a final table of groups groups (one prescription each, three groups a
// subject) in the original format, with each column's cells drawn as described. It
// returns the table and, per column, the cells written as -1.0.
func shapeTable(groups int, seed uint64, cols []shapeColumn) (string, map[string]int) {
	r := rand.New(rand.NewPCG(seed, 7))
	cells := make([][]string, len(cols)) // per column: pre and post cells of every group
	minusOnes := map[string]int{}
	for c, col := range cols {
		cells[c] = make([]string, 2*groups)
		var observed []int
		for i := range cells[c] {
			switch u := r.Float64(); {
			case u < col.missing:
				cells[c][i] = "-1.0"
				minusOnes[col.name]++
			case u < col.missing+col.empty:
				cells[c][i] = ""
			default:
				v := col.value(r)
				if v == -1 && col.missing > 0 {
					v = -1.01 // where the column uses the code, a value never prints as it
				}
				cells[c][i] = fmt.Sprint(v)
				observed = append(observed, i)
			}
		}
		for k, p := range r.Perm(len(observed)) {
			if k == col.strays {
				break
			}
			i := observed[p]
			cells[c][i] = fmt.Sprint(-math.Round(5 + 200*r.Float64()))
		}
	}
	var b strings.Builder
	b.WriteString("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx")
	for _, when := range []string{"pre_", "post_"} {
		for _, col := range cols {
			b.WriteString("," + when + col.name)
		}
	}
	b.WriteString(",P0,P1\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "%d,2125-%02d-%02dT08:00:00,%d,mg", 1000+g/3, 1+g%12, 1+g%28, 1+r.IntN(50))
		for w := 0; w < 2; w++ {
			for c := range cols {
				b.WriteString("," + cells[c][2*g+w])
			}
		}
		fmt.Fprintf(&b, ",%.3f,%.3f\n", r.NormFloat64(), r.NormFloat64())
	}
	return b.String(), minusOnes
}

func normal(mean, sd float64, decimals int) func(r *rand.Rand) float64 {
	p := math.Pow(10, float64(decimals))
	return func(r *rand.Rand) float64 { return math.Round((mean+sd*r.NormFloat64())*p) / p }
}

// positive redraws until the value is above zero (an analyte that cannot be negative).
func positive(draw func(r *rand.Rand) float64) func(r *rand.Rand) float64 {
	return func(r *rand.Rand) float64 {
		for {
			if v := draw(r); v > 0 {
				return v
			}
		}
	}
}

// failingShape is the table of issue #20: 874 groups, glucose 80% -1.0 with 6 other
// negative values, and likewise lactate, fio2 and aado2 with a few stray negatives; ph
// with the code but no negative; base excess in whole units with real -1s among -2 and
// 0 (its missing cells empty); intubated never filled (all -1.0).
func failingShape() []shapeColumn {
	return []shapeColumn{
		{name: "ph", value: normal(7.38, 0.08, 2), missing: 0.3},
		{name: "baseexcess", value: normal(0, 4, 0), empty: 0.2},
		{name: "glucose", value: positive(normal(140, 45, 0)), missing: 0.8, strays: 6},
		{name: "lactate", value: normal(2.2, 1.2, 1), missing: 0.5, strays: 4},
		{name: "fio2", value: positive(normal(55, 18, 0)), missing: 0.7, strays: 3},
		{name: "aado2", value: positive(normal(240, 120, 0)), missing: 0.8, strays: 2},
		{name: "intubated", value: normal(0.6, 0.3, 1), missing: 1},
	}
}

// TestMinusOneFailingShape: a few stray negative values must not turn thousands of -1.0
// cells into values of -1 (the rule "missing only where no other value is negative" read
// all 1,388 glucose codes as -1 mg/dL); base excess keeps its real -1s.
func TestMinusOneFailingShape(t *testing.T) {
	table, minusOnes := shapeTable(874, 20, failingShape())
	if n := minusOnes["glucose"]; n < 1300 || n > 1500 {
		t.Fatalf("generator: %d glucose cells of -1.0, want about 80%% of 1748", n)
	}
	ds, rep, err := ReadTable(context.Background(), "shape.csv", strings.NewReader(table), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Samples) != 874 {
		t.Fatalf("%d samples, want 874", len(ds.Samples))
	}
	if !slices.Equal(ds.Layout.MinusOneReal, []string{"baseexcess"}) {
		t.Errorf("-1 read as a value in %v, want only [baseexcess]", ds.Layout.MinusOneReal)
	}
	for j, a := range ds.Layout.Analytes {
		valueMinusOnes := 0
		for _, s := range ds.Samples {
			if s.PreObserved[j] && s.Pre[j] == -1 {
				valueMinusOnes++
			}
			if s.PostObserved[j] && s.Post[j] == -1 {
				valueMinusOnes++
			}
		}
		if a == "baseexcess" {
			if valueMinusOnes == 0 {
				t.Error("base excess: no -1 kept as a value")
			}
			continue
		}
		if valueMinusOnes > 0 {
			t.Errorf("%s: %d cells of -1.0 read as values of -1, want missing", a, valueMinusOnes)
		}
	}
	got := map[string]MissingCode{}
	for _, m := range rep.MissingCodes {
		got[m.Analyte] = m
	}
	if m := got["glucose"]; !m.MinusOneMissing || m.MinusOnes != minusOnes["glucose"] || m.OtherNegatives != 6 || m.Ambiguous {
		t.Errorf("glucose decision %+v, want missing, %d cells, 6 other negatives, not ambiguous", m, minusOnes["glucose"])
	}
	if m := got["intubated"]; !m.MinusOneMissing || m.MinusOnes != 1748 || len(m.Neighbours) != 0 {
		t.Errorf("intubated (all -1.0) decision %+v, want missing", m)
	}
	if w := rep.MinusOneWarning(); w != "" {
		t.Errorf("no column is ambiguous, yet: %s", w)
	}
}
