package model

import (
	"context"
	"fmt"

	"github.com/blueblood/blueblood/pipeline"
)

// linearFeatures writes the linear base's inputs for s into dst (zeroed here): the ridge
// features (ridgeFeaturesInto, from the scaled values they are made of) and a 1 for the
// intercept.
func linearFeatures(cfg Config, s *scaled, dst []float32) {
	l := cfg.Layout
	a, dim := len(l.Analytes), l.EmbeddingDim
	clear(dst)
	copy(dst, s.pre)
	copy(dst[a:], s.preObs)
	sum, dosed := dst[2*a:2*a+dim], dst[2*a+dim:2*a+2*dim]
	for r := 0; r < s.n; r++ {
		dose := s.du[2*r]
		for e, v := range s.emb[r][:dim] {
			sum[e] += v
			dosed[e] += v * dose
		}
	}
	for _, id := range s.drugs {
		if id >= 0 {
			dst[2*a+2*dim+int(id)]++
		}
	}
	dst[len(dst)-1] = 1
}

// fitLinearBase fits the linear base on the training samples (a ridge regression of each
// analyte's scaled change, penalty chosen over inner folds by subject) and writes it into
// the frozen lin_w block: one column per analyte, the intercept in the last row.
// It returns the chosen penalty.
func (m *Model) fitLinearBase(ctx context.Context, train []pipeline.Sample, seed int64) (float64, error) {
	spec, ok := m.spec("lin_w")
	if !ok {
		return 0, nil
	}
	drugs := newRidgeDrugs(m.drugIdx, train)
	r, err := fitRidge(train, m.sc, m.cfg.Layout, drugs, seed)
	if err != nil {
		return 0, fmt.Errorf("model: linear base: %w", err)
	}
	if ctx.Err() != nil {
		return 0, ErrInterrupted
	}
	w := m.params[spec.Off : spec.Off+spec.size()]
	clear(w)
	a := spec.Cols
	for j := 0; j < a; j++ {
		if r.beta[j] == nil {
			continue // no change seen: the base predicts none
		}
		first := ridgeWidth(m.cfg.Layout, 0) // the drugs' coefficients, for raw row counts
		for c, v := range r.beta[j] {
			if c >= first {
				v *= drugs.scale[c-first]
			}
			w[c*a+j] = float32(v)
		}
		w[(spec.Rows-1)*a+j] = float32(r.intercept[j])
	}
	return r.Penalty, nil
}

// spec returns the parameter block named name.
func (m *Model) spec(name string) (paramSpec, bool) {
	for _, s := range m.specs {
		if s.Name == name {
			return s, true
		}
	}
	return paramSpec{}, false
}

// keepLinearBase zeroes the linear base's column of each analyte whose validation error
// it does not lower against post = pre, with any one validation subject left out (as
// shrinkToBaseline keeps a learned change): on a table where the ridge loses to post =
// pre, the base would only start the network from a worse place. It returns the analytes
// kept (nil without a base). vs[i] is val[i] scaled.
func (m *Model) keepLinearBase(vs []*scaled, val []pipeline.Sample) []bool {
	spec, ok := m.spec("lin_w")
	if !ok {
		return nil
	}
	a := spec.Cols
	index, gains := subjectTable(val, a)
	withBase := m.baselines(vs)
	for i, s := range vs {
		k := index[val[i].Subject]
		for j := 0; j < a; j++ {
			if s.postMask[j] == 0 || !scorable(m.sc, j) {
				continue
			}
			pre, b, y := float64(s.pre[j]), withBase[i*a+j], float64(s.post[j])
			gains[j][k] += (pre-y)*(pre-y) - (b-y)*(b-y)
		}
	}
	kept := make([]bool, a)
	w := m.params[spec.Off : spec.Off+spec.size()]
	for j := range kept {
		if kept[j] = holdsWithoutAnyOne(gains[j]); !kept[j] {
			for r := 0; r < spec.Rows; r++ {
				w[r*a+j] = 0
			}
		}
	}
	return kept
}
