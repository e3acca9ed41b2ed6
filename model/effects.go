package model

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/blueblood/blueblood/pipeline"
)

// CaseEffects is what the model says each prescription row of one case does: the
// predicted post values with every row, without each row in turn, and with each row's
// dose scaled, all in original units (one value per analyte). The difference With -
// Without[i] is row i's predicted effect on this case.
type CaseEffects struct {
	With    []float32
	Without [][]float32 // per prescription row
	// Scaled holds, per row, the prediction with that row's dose multiplied by the
	// requested factor; nil when no factor was asked for, and nil for a row whose dose is
	// missing (there is nothing to scale).
	Scaled [][]float32
}

// Effect is row i's predicted effect on analyte j: With[j] - Without[i][j].
func (c *CaseEffects) Effect(i, j int) float32 { return c.With[j] - c.Without[i][j] }

// MaxEffectRows bounds the rows of one case that Effects explains: each row costs one or
// two extra predictions.
const MaxEffectRows = 64

// Effects answers "what if" for each case: predictions with and without each of its
// prescription rows and, when doseScale is not 1, with each row's dose scaled by it. All
// variants of all cases go through one Predict call, so they share its batching.
func (m *Model) Effects(cases []pipeline.Sample, doseScale float64) ([]CaseEffects, error) {
	if !(doseScale >= 0) || math.IsInf(doseScale, 0) {
		return nil, fmt.Errorf("dose scale %v: expected a finite number >= 0", doseScale)
	}
	scale := doseScale != 1
	var variants []pipeline.Sample
	for c := range cases {
		s := &cases[c]
		n := s.NumRx()
		if n == 0 {
			return nil, fmt.Errorf("case %d (subject %q): no prescription rows to explain", c, s.Subject)
		}
		if n > MaxEffectRows {
			return nil, fmt.Errorf("case %d (subject %q): %d prescription rows; effects explain at most %d", c, s.Subject, n, MaxEffectRows)
		}
		variants = append(variants, *s)
		for i := 0; i < n; i++ {
			variants = append(variants, withoutRow(s, i))
		}
		if scale {
			for i := 0; i < n; i++ {
				if !math.IsNaN(float64(s.Doses[i])) {
					variants = append(variants, withDose(s, i, float32(float64(s.Doses[i])*doseScale)))
				}
			}
		}
	}
	preds, err := m.Predict(variants)
	if err != nil {
		return nil, err
	}
	if len(preds) != len(variants) {
		return nil, errors.New("model: effects: prediction count does not match")
	}
	out := make([]CaseEffects, len(cases))
	k := 0
	for c := range cases {
		s := &cases[c]
		n := s.NumRx()
		e := &out[c]
		e.With, k = preds[k], k+1
		e.Without, k = preds[k:k+n:k+n], k+n
		if scale {
			e.Scaled = make([][]float32, n)
			for i := 0; i < n; i++ {
				if !math.IsNaN(float64(s.Doses[i])) {
					e.Scaled[i], k = preds[k], k+1
				}
			}
		}
	}
	return out, nil
}

// withoutRow is s without prescription row i. A case with one row becomes a case with
// none: the network pools over no rows, which is its answer to "no prescription".
func withoutRow(s *pipeline.Sample, i int) pipeline.Sample {
	return withoutRows(s, []int{i})
}

// withoutRows is s without the given rows (in increasing order); s is not changed.
func withoutRows(s *pipeline.Sample, rows []int) pipeline.Sample {
	out := *s
	out.Embeddings = slices.Clone(s.Embeddings)
	out.Doses = slices.Clone(s.Doses)
	out.Units = slices.Clone(s.Units)
	out.Drugs = slices.Clone(s.Drugs) // may stop short of the last rows (unnamed)
	for k := len(rows) - 1; k >= 0; k-- {
		i := rows[k]
		out.Embeddings = slices.Delete(out.Embeddings, i, i+1)
		out.Doses = slices.Delete(out.Doses, i, i+1)
		out.Units = slices.Delete(out.Units, i, i+1)
		if i < len(out.Drugs) {
			out.Drugs = slices.Delete(out.Drugs, i, i+1)
		}
	}
	return out
}

// withDose is s with row i's dose set to dose.
func withDose(s *pipeline.Sample, i int, dose float32) pipeline.Sample {
	out := *s
	out.Doses = slices.Clone(s.Doses)
	out.Doses[i] = dose
	return out
}
