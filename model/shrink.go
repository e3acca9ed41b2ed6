package model

// shrinkToBaseline scales each analyte's learned output, column j of out_w and out_b, by
// the factor in [0, 1] that minimises the validation squared error of
// baseline + factor * (prediction - baseline). The baseline is the untrained network's
// prediction: the scaled pre value where it was observed, 0 (the training mean) where not.
// On small data a trained epoch can beat the untrained one on validation through a few
// analytes while its change for the others does not carry over; a factor per analyte keeps
// only the change validation supports, and the model file keeps its format. Only the
// residual head has that baseline; other architectures are left as they are. It returns
// the factors (nil when nothing was done).
func (m *Model) shrinkToBaseline(vs []*scaled) ([]float64, error) {
	if !m.cfg.residual() || len(vs) == 0 {
		return nil, nil
	}
	a := len(m.cfg.Layout.Analytes)
	pred := make([]float32, len(vs)*a)
	if err := m.predictScaled(vs, pred); err != nil {
		return nil, err
	}
	num, den := make([]float64, a), make([]float64, a)
	for i, s := range vs {
		for j := 0; j < a; j++ {
			if s.postMask[j] == 0 {
				continue
			}
			base := float64(s.pre[j]) // 0 where pre is missing
			d := float64(pred[i*a+j]) - base
			num[j] += d * (float64(s.post[j]) - base)
			den[j] += d * d
		}
	}
	factors := make([]float64, a)
	for j := range factors {
		f := 1.0 // no validation evidence either way: keep what training learned
		if den[j] > 0 {
			f = min(max(num[j]/den[j], 0), 1)
		}
		factors[j] = f
	}
	var w, b paramSpec
	for _, s := range m.specs {
		switch s.Name {
		case "out_w":
			w = s
		case "out_b":
			b = s
		}
	}
	for j, f := range factors {
		for r := 0; r < w.Rows; r++ {
			m.params[w.Off+r*w.Cols+j] *= float32(f)
		}
		m.params[b.Off+j] *= float32(f)
	}
	return factors, nil
}
