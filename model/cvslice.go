package model

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// Slice is a subset of a cross-validation's test cases: the groups with a drug, scored
// on the analyte it targets (e.g. Potassium Chloride on potassium).
type Slice struct {
	Drug    string `json:"drug"` // matched against each row's drug name, case-insensitively
	Analyte string `json:"analyte"`
}

// SliceResult is one slice in one fold: every method's absolute error on the slice's
// analyte in original units, and the change the model predicts the drug's rows cause
// there (the case with them against the case without them).
type SliceResult struct {
	Slice
	Cases   int                `json:"cases"`   // test groups with the drug
	Targets int                `json:"targets"` // of them, those with an observed post value
	AbsErr  map[string]float64 `json:"abs_err"` // per method, summed over Targets
	// EffectSum sums the predicted change over the Cases; EffectPositive counts rises.
	EffectSum      float64 `json:"effect_sum"`
	EffectPositive int     `json:"effect_positive"`

	assoc preAdjusted // every test group with the analyte's pre and post values
}

// SliceSummary is one slice over all folds.
type SliceSummary struct {
	Slice
	Cases   int                `json:"cases"`
	Targets int                `json:"targets"`
	MAE     map[string]float64 `json:"mae"` // per method, original units
	// EffectMean is the mean predicted change the drug causes in the analyte, and
	// EffectPositiveShare the share of cases where it is a rise.
	EffectMean          float64 `json:"effect_mean"`
	EffectPositiveShare float64 `json:"effect_positive_share"`
	// ObservedEffect is what the data says beside it: the difference in the observed
	// change between the test groups with the drug and those without, at equal pre
	// value (the drug's coefficient in a least-squares fit of the change on the pre value
	// and the drug), over ObservedGroups groups; nil when the fit is singular. It is an
	// association, not a causal effect: a drug given to sicker patients carries their course.
	ObservedEffect *float64 `json:"observed_effect,omitempty"`
	ObservedGroups int      `json:"observed_groups"`
}

// checkSlices resolves each slice's analyte against the layout and names it as the
// layout does.
func checkSlices(sl []Slice, l pipeline.Layout) ([]int, error) {
	idx := make([]int, len(sl))
	for k := range sl {
		s := &sl[k]
		idx[k] = slices.IndexFunc(l.Analytes, func(a string) bool { return strings.EqualFold(a, s.Analyte) })
		if idx[k] < 0 {
			return nil, fmt.Errorf("slice %q: analyte %q is not in the data (%s)", s.Drug, s.Analyte, strings.Join(l.Analytes, ", "))
		}
		if strings.TrimSpace(s.Drug) == "" {
			return nil, fmt.Errorf("slice on %s: empty drug name", s.Analyte)
		}
		s.Analyte, s.Drug = l.Analytes[idx[k]], strings.TrimSpace(s.Drug)
	}
	return idx, nil
}

// hasDrug lists the rows of s whose drug is named drug, with or without a route after
// it ("Potassium Chloride (IV)": native tables name a drug with its route).
func hasDrug(s *pipeline.Sample, drug string) []int {
	var rows []int
	for i, d := range s.Drugs {
		d = strings.TrimSpace(d)
		name, _, routed := strings.Cut(d, " (")
		if strings.EqualFold(d, drug) || (routed && strings.HasSuffix(d, ")") && strings.EqualFold(name, drug)) {
			rows = append(rows, i)
		}
	}
	return rows
}

// scoreSlices scores each slice on one fold's test cases; preds are every method's
// predictions for test.
func scoreSlices(m *Model, test []pipeline.Sample, preds map[string][][]float32, sl []Slice, idx []int) ([]SliceResult, error) {
	out := make([]SliceResult, len(sl))
	for k, s := range sl {
		j := idx[k]
		r := SliceResult{Slice: s, AbsErr: map[string]float64{}}
		var with, without []pipeline.Sample
		for i := range test {
			c := &test[i]
			rows := hasDrug(c, s.Drug)
			if c.PreObserved[j] && c.PostObserved[j] {
				r.assoc.add(float64(c.Pre[j]), len(rows) > 0, float64(c.Post[j]-c.Pre[j]))
			}
			if len(rows) == 0 {
				continue
			}
			r.Cases++
			if c.PostObserved[j] {
				r.Targets++
				for name, p := range preds {
					r.AbsErr[name] += math.Abs(float64(p[i][j] - c.Post[j]))
				}
			}
			with = append(with, *c)
			without = append(without, withoutRows(c, rows))
		}
		if len(with) > 0 {
			pw, err := m.Predict(with)
			if err != nil {
				return nil, err
			}
			po, err := m.Predict(without)
			if err != nil {
				return nil, err
			}
			for i := range pw {
				d := float64(pw[i][j] - po[i][j])
				r.EffectSum += d
				if d > 0 {
					r.EffectPositive++
				}
			}
		}
		out[k] = r
	}
	return out, nil
}

// summariseSlices pools each slice over the folds.
func summariseSlices(folds []FoldResult) []SliceSummary {
	if len(folds) == 0 {
		return nil
	}
	out := make([]SliceSummary, len(folds[0].Slices))
	for k := range out {
		sum := SliceSummary{Slice: folds[0].Slices[k].Slice, MAE: map[string]float64{}}
		var effect float64
		pos := 0
		var assoc preAdjusted
		for _, f := range folds {
			r := f.Slices[k]
			assoc.merge(&r.assoc)
			sum.Cases += r.Cases
			sum.Targets += r.Targets
			for name, e := range r.AbsErr {
				sum.MAE[name] += e
			}
			effect += r.EffectSum
			pos += r.EffectPositive
		}
		for name := range sum.MAE {
			sum.MAE[name] /= float64(max(sum.Targets, 1))
		}
		if v := assoc.drugCoefficient(); !math.IsNaN(v) {
			sum.ObservedEffect = &v
		}
		sum.ObservedGroups = int(assoc.xx[0])
		if sum.Cases > 0 {
			sum.EffectMean = effect / float64(sum.Cases)
			sum.EffectPositiveShare = float64(pos) / float64(sum.Cases)
		}
		out[k] = sum
	}
	return out
}

// drugTargets is the analyte a drug is given to move, for slices named by drug alone:
// the drugs with effects large and frequent enough to learn in MIMIC (potassium after
// potassium chloride, glucose after insulin, magnesium after magnesium sulfate, calcium
// after calcium gluconate), under the chemistry preset's analyte names.
var drugTargets = map[string]string{
	"potassium chloride": "potassium",
	"insulin":            "glucose",
	"magnesium sulfate":  "magnesium",
	"calcium gluconate":  "calcium_total",
}

// ParseSlice reads DRUG or DRUG=ANALYTE; a drug alone takes the analyte it targets.
func ParseSlice(text string) (Slice, error) {
	drug, analyte, set := strings.Cut(text, "=")
	drug, analyte = strings.TrimSpace(drug), strings.TrimSpace(analyte)
	if !set {
		analyte = drugTargets[strings.ToLower(drug)]
	}
	if drug == "" || analyte == "" {
		return Slice{}, fmt.Errorf("slice %q: expected DRUG=ANALYTE (a drug alone only for %s)", text, strings.Join(slices.Sorted(maps.Keys(drugTargets)), ", "))
	}
	return Slice{Drug: drug, Analyte: analyte}, nil
}
