package model

import (
	"math"
	"math/rand/v2"
	"sort"
)

// bootstrapDraws is the number of bootstrap resamples behind each interval.
const bootstrapDraws = 2000

// summarise computes each method's mean and sd over folds and its paired difference to
// persistence with a stratified bootstrap interval.
func summarise(folds []FoldResult, seed int64) []MethodSummary {
	var out []MethodSummary
	for _, name := range cvMethods {
		ms := MethodSummary{Method: name}
		var vals []float64
		for _, f := range folds {
			vals = append(vals, f.RMSE[name])
			d := f.RMSE[name] - f.RMSE[MethodPersistence]
			ms.DiffToPersistence = append(ms.DiffToPersistence, d)
			if d < 0 {
				ms.Better++
			}
		}
		ms.Mean, ms.SD = meanSD(vals)
		ms.DiffMean, _ = meanSD(ms.DiffToPersistence)
		ms.DiffLow, ms.DiffHigh = bootstrapDiff(folds, name, seed)
		out = append(out, ms)
	}
	return out
}

func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	if len(v) < 2 {
		return m, 0
	}
	var q float64
	for _, x := range v {
		q += (x - m) * (x - m)
	}
	return m, math.Sqrt(q / float64(len(v)-1))
}

// bootstrapDiff is the 95% percentile interval of the mean over folds of RMSE(method) -
// RMSE(persistence), resampling each fold's test subjects with replacement (the same
// draw for both methods, so the difference stays paired).
func bootstrapDiff(folds []FoldResult, name string, seed int64) (float64, float64) {
	if name == MethodPersistence {
		return 0, 0
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x626f6f74)) // "boot"
	diffs := make([]float64, bootstrapDraws)
	for b := range diffs {
		var sum float64
		for _, f := range folds {
			m, p := f.bySubject[name], f.bySubject[MethodPersistence]
			var mse, pse float64
			var mn, pn int
			for range m {
				k := r.IntN(len(m))
				mse, mn = mse+m[k].se, mn+m[k].n
				pse, pn = pse+p[k].se, pn+p[k].n
			}
			sum += math.Sqrt(mse/float64(max(mn, 1))) - math.Sqrt(pse/float64(max(pn, 1)))
		}
		diffs[b] = sum / float64(len(folds))
	}
	sort.Float64s(diffs)
	return diffs[int(0.025*float64(len(diffs)))], diffs[int(0.975*float64(len(diffs)))-1]
}
