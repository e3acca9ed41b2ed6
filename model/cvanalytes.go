package model

import (
	"math"

	"github.com/blueblood/blueblood/pipeline"
)

// AnalyteSummary is every method's score on one analyte over all folds' test cells:
// RMSE in standard units (each fold's training scaler) and MAE in original units.
type AnalyteSummary struct {
	Analyte string             `json:"analyte"`
	Targets int                `json:"targets"`
	RMSE    map[string]float64 `json:"rmse"`
	MAE     map[string]float64 `json:"mae"`
}

// analyteErrors is one fold's per-analyte sums: squared errors in standard units and
// absolute errors in original units, per method, and the scored cells.
type analyteErrors struct {
	se, ae map[string][]float64
	n      []int
}

// scoreAnalytes sums each method's errors per analyte over the scorable observed cells,
// the cells scoreBySubject scores.
func scoreAnalytes(sc *pipeline.Scaler, test []pipeline.Sample, preds map[string][][]float32) analyteErrors {
	a := len(sc.Std)
	e := analyteErrors{se: map[string][]float64{}, ae: map[string][]float64{}, n: make([]int, a)}
	for name, p := range preds {
		se, ae := make([]float64, a), make([]float64, a)
		for i := range test {
			s := &test[i]
			for j, ok := range s.PostObserved {
				if !ok || !scorable(sc, j) {
					continue
				}
				d := float64(sc.ScaleAnalyte(j, p[i][j]) - sc.ScaleAnalyte(j, s.Post[j]))
				se[j] += d * d
				ae[j] += math.Abs(float64(p[i][j] - s.Post[j]))
			}
		}
		e.se[name], e.ae[name] = se, ae
	}
	for i := range test {
		for j, ok := range test[i].PostObserved {
			if ok && scorable(sc, j) {
				e.n[j]++
			}
		}
	}
	return e
}

// summariseAnalytes pools the folds' per-analyte sums.
func summariseAnalytes(folds []FoldResult, names []string) []AnalyteSummary {
	out := make([]AnalyteSummary, len(names))
	for j, name := range names {
		s := AnalyteSummary{Analyte: name, RMSE: map[string]float64{}, MAE: map[string]float64{}}
		se, ae := map[string]float64{}, map[string]float64{}
		for _, f := range folds {
			if j >= len(f.analytes.n) {
				continue
			}
			s.Targets += f.analytes.n[j]
			for m, v := range f.analytes.se {
				se[m] += v[j]
				ae[m] += f.analytes.ae[m][j]
			}
		}
		for m := range se {
			if s.Targets > 0 {
				s.RMSE[m] = math.Sqrt(se[m] / float64(s.Targets))
				s.MAE[m] = ae[m] / float64(s.Targets)
			}
		}
		out[j] = s
	}
	return out
}
