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
				v := col.value(r) + 0       // no "-0"
				cells[c][i] = fmt.Sprint(v) // a real -1 prints as the code does
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

// TestMinusOneBaseExcessShape: in whole units around 0, a real -1 is about as frequent as
// -2 and 0 and stays a value; the same column with the code added on top becomes a
// point mass (missing), and in between the reader warns.
func TestMinusOneBaseExcessShape(t *testing.T) {
	for _, tc := range []struct {
		name               string
		missing            float64
		wantMissing, ambig bool
	}{
		{"real -1 among its neighbours", 0, false, false},
		{"code on top, a clear point mass", 0.6, true, false},
		{"code on top, ambiguous", 0.15, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols := []shapeColumn{
				{name: "ph", value: normal(7.38, 0.08, 2), missing: 0.3},
				{name: "baseexcess", value: normal(0, 3, 0), missing: tc.missing},
			}
			table, _ := shapeTable(300, 3, cols)
			ds, rep, err := ReadTable(context.Background(), "be.csv", strings.NewReader(table), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var be MissingCode
			for _, m := range rep.MissingCodes {
				if m.Analyte == "baseexcess" {
					be = m
				}
			}
			if be.MinusOneMissing != tc.wantMissing || be.Ambiguous != tc.ambig {
				t.Fatalf("base excess: %+v, want missing %v, ambiguous %v", be, tc.wantMissing, tc.ambig)
			}
			if got := slices.Contains(ds.Layout.MinusOneReal, "baseexcess"); got == tc.wantMissing {
				t.Errorf("layout lists base excess as -1 real: %v", got)
			}
			var text strings.Builder
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(text.String(), "warning: -1.0 is ambiguous in baseexcess")
			if warned != tc.ambig {
				t.Errorf("warning line present %v, want %v:\n%s", warned, tc.ambig, text.String())
			}
		})
	}
}

// TestMinusOneSetting: the explicit setting overrides the test, for all analytes or per
// analyte, and names only analytes the table has.
func TestMinusOneSetting(t *testing.T) {
	table, _ := shapeTable(200, 5, failingShape())
	read := func(setting string) (*Dataset, *Report, error) {
		rule, err := ParseMinusOneRule(setting)
		if err != nil {
			t.Fatal(err)
		}
		return ReadTable(context.Background(), "s.csv", strings.NewReader(table), ReadOptions{MinusOne: rule})
	}
	for setting, want := range map[string][]string{
		"auto":                              {"baseexcess"},
		"":                                  {"baseexcess"},
		"missing":                           nil,
		"value":                             {"ph", "baseexcess", "glucose", "lactate", "fio2", "aado2", "intubated"},
		"baseexcess=missing,glucose=value":  {"glucose"},
		"missing, lactate = value":          {"lactate"},
		"value,intubated=missing,ph=auto":   {"baseexcess", "glucose", "lactate", "fio2", "aado2"},
		"glucose=value,baseexcess=value":    {"baseexcess", "glucose"},
		"auto,glucose=missing,fio2=missing": {"baseexcess"},
	} {
		ds, rep, err := read(setting)
		if err != nil {
			t.Fatalf("%q: %v", setting, err)
		}
		if !slices.Equal(ds.Layout.MinusOneReal, want) {
			t.Errorf("%q: -1 a value in %v, want %v", setting, ds.Layout.MinusOneReal, want)
		}
		for _, m := range rep.MissingCodes {
			rule, _ := ParseMinusOneRule(setting)
			if byData := rule.mode(m.Analyte) == MinusOneAuto; byData != (m.DecidedBy == MinusOneByData) {
				t.Errorf("%q: %s decided by %s", setting, m.Analyte, m.DecidedBy)
			}
		}
	}
	if _, _, err := read("glucos=value"); err == nil || !strings.Contains(err.Error(), `"glucos"`) {
		t.Errorf("a setting naming an analyte the table lacks: %v", err)
	}
	for _, bad := range []string{"maybe", "glucose=", "=value", "missing,value", "glucose=value,glucose=missing", "glucose"} {
		if _, err := ParseMinusOneRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for in, plain := range map[string]string{"": "auto", " value ": "value", "b=value, a=missing": "a=missing,b=value", "auto,a=value": "a=value", "missing,a=value": "missing,a=value"} {
		got, err := NormalizeMinusOneRule(in)
		if err != nil || got != plain {
			t.Errorf("NormalizeMinusOneRule(%q) = %q, %v; want %q", in, got, err, plain)
		}
		if again, _ := NormalizeMinusOneRule(got); again != got {
			t.Errorf("plain form %q does not read back to itself: %q", got, again)
		}
	}
}

// TestMinusOneTallyNearest: the bounded tally keeps exactly the distinct values nearest
// to -1 with their full counts, whatever order the cells come in.
func TestMinusOneTallyNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		var vals []float32
		for i := 0; i < 1+r.IntN(60); i++ {
			vals = append(vals, float32(r.IntN(21)-10)/float32(1+r.IntN(2)))
		}
		var tl minusOneTally
		counts := map[float32]int{}
		for _, v := range vals {
			tl.add(v, true)
			counts[v]++
		}
		var distinct []float32
		for v := range counts {
			distinct = append(distinct, v)
		}
		slices.SortFunc(distinct, func(a, b float32) int {
			if closerToMinusOne(a, b) {
				return -1
			}
			return 1
		})
		if len(distinct) > minusOneNeighbours {
			distinct = distinct[:minusOneNeighbours]
		}
		if len(tl.near) != len(distinct) {
			t.Fatalf("%v: kept %v, want %v", vals, tl.near, distinct)
		}
		for i, v := range distinct {
			if tl.near[i] != (valueCount{v, counts[v]}) {
				t.Fatalf("%v: kept %v, want %v with counts %v", vals, tl.near, distinct, counts)
			}
		}
	}
}

// TestMinusOneNeighboursAsWritten: the report names nearby values as the table wrote
// them, not as float32's binary expansion.
func TestMinusOneNeighboursAsWritten(t *testing.T) {
	var tl minusOneTally
	for _, v := range []float32{-1.01, -0.99, 7.35} {
		tl.add(v, true)
	}
	got := tl.neighbours()
	if len(got) != 3 || got[0].Value != -1.01 || got[1].Value != -0.99 || got[2].Value != 7.35 {
		t.Fatalf("neighbours %v, want -1.01, -0.99, 7.35 (nearest first, in float32)", got)
	}
}
