package model

import "github.com/blueblood/blueblood/pipeline"

// shrinkToBaseline scales each analyte's learned output, column j of out_w and out_b, by
// the factor in [0, 1] that minimises the validation squared error of
// baseline + factor * (prediction - baseline). The baseline is the untrained network's
// prediction: the scaled pre value where it was observed, 0 (the training mean) where not,
// plus the linear base where the network has one.
// On small data a trained epoch can beat the untrained one on validation through a few
// analytes while its change for the others does not carry over; a factor per analyte keeps
// only the change validation supports, and the model file keeps its format.
//
// An analyte keeps its change only if that change still lowers the validation error with
// any one validation subject left out (see subjectGains); otherwise its factor is 0. With
// few validation subjects one of them can carry an analyte's whole gain, and on the real
// table (`launcher cv`, 5 folds) such changes made the held-out subjects worse.
//
// Only the residual head has that baseline; other architectures are left as they are. It
// returns the factors (nil when nothing was done). vs[i] is val[i] scaled.
func (m *Model) shrinkToBaseline(vs []*scaled, val []pipeline.Sample) ([]float64, error) {
	if !m.cfg.residual() || len(vs) == 0 {
		return nil, nil
	}
	a := len(m.cfg.Layout.Analytes)
	pred := make([]float32, len(vs)*a)
	if err := m.predictScaled(vs, pred); err != nil {
		return nil, err
	}
	bases := m.baselines(vs)
	num, den := make([]float64, a), make([]float64, a)
	for i, s := range vs {
		for j := 0; j < a; j++ {
			if s.postMask[j] == 0 {
				continue
			}
			base := bases[i*a+j]
			d := float64(pred[i*a+j]) - base
			num[j] += d * (float64(s.post[j]) - base)
			den[j] += d * d
		}
	}
	factors := make([]float64, a)
	for j := range factors {
		if den[j] > 0 {
			factors[j] = min(max(num[j]/den[j], 0), 1)
		}
	}
	gains := m.subjectGains(vs, val, pred, bases, factors)
	for j, g := range gains {
		if !holdsWithoutAnyOne(g) {
			factors[j] = 0
		}
	}
	for _, s := range m.specs {
		if s.Name != "out_w" && s.Name != "out_b" {
			continue
		}
		for j, f := range factors {
			for r := 0; r < s.Rows; r++ {
				m.params[s.Off+r*s.Cols+j] *= float32(f)
			}
		}
	}
	return factors, nil
}

// subjectGains returns, per analyte and per validation subject (in order of first
// appearance, so the sums are deterministic), how much the shrunk change lowers the
// squared error against the baseline. Analytes the scorer leaves out gain nothing.
func (m *Model) subjectGains(vs []*scaled, val []pipeline.Sample, pred []float32, bases, factors []float64) [][]float64 {
	a := len(factors)
	index, gains := subjectTable(val, a)
	for i, s := range vs {
		k := index[val[i].Subject]
		for j := 0; j < a; j++ {
			if s.postMask[j] == 0 || !scorable(m.sc, j) {
				continue
			}
			base, y := bases[i*a+j], float64(s.post[j])
			p := base + factors[j]*(float64(pred[i*a+j])-base)
			gains[j][k] += (base-y)*(base-y) - (p-y)*(p-y)
		}
	}
	return gains
}

// holdsWithoutAnyOne reports whether the gains sum to more than 0 with any one of them
// left out (so never with fewer than two subjects).
func holdsWithoutAnyOne(gains []float64) bool {
	total := 0.0
	for _, g := range gains {
		total += g
	}
	for _, g := range gains {
		if total-g <= 0 {
			return false
		}
	}
	return len(gains) > 0
}

// baselines returns the untrained network's scaled prediction for each sample and analyte
// (row-major): the pre value (0 where missing) plus the linear base.
func (m *Model) baselines(vs []*scaled) []float64 {
	a := len(m.cfg.Layout.Analytes)
	out := make([]float64, len(vs)*a)
	spec, linear := m.spec("lin_w")
	var x []float32
	var w []float32
	if linear {
		x, w = make([]float32, spec.Rows), m.params[spec.Off:spec.Off+spec.size()]
	}
	lin := make([]float64, a)
	for i, s := range vs {
		clear(lin)
		if linear {
			linearFeatures(m.cfg, s, x)
			for c, v := range x {
				if v == 0 {
					continue
				}
				for j := range lin {
					lin[j] += float64(v) * float64(w[c*a+j])
				}
			}
		}
		for j := 0; j < a; j++ {
			out[i*a+j] = float64(s.pre[j]) + lin[j]
		}
	}
	return out
}

// subjectTable numbers the validation subjects in order of first appearance (so sums over
// them are deterministic) and returns a zeroed gain per analyte and subject.
func subjectTable(val []pipeline.Sample, analytes int) (map[string]int, [][]float64) {
	index := map[string]int{}
	for i := range val {
		if _, ok := index[val[i].Subject]; !ok {
			index[val[i].Subject] = len(index)
		}
	}
	gains := make([][]float64, analytes)
	for j := range gains {
		gains[j] = make([]float64, len(index))
	}
	return index, gains
}
