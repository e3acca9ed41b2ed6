package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/blueblood/blueblood/pipeline"
)

// Baseline names in Metrics.Baselines.
const (
	BaselineTrainMean     = "train_mean"
	BaselinePostEqualsPre = "post_equals_pre"
)

// AnalyteScore is one analyte's error in original units over its observed targets.
type AnalyteScore struct {
	Analyte string  `json:"analyte"`
	Count   int     `json:"count"`
	RMSE    float64 `json:"rmse"` // NaN-free: 0 when Count is 0
	MAE     float64 `json:"mae"`
}

// Scores are masked errors of one predictor: MSE, RMSE and MAE in scaled units over all
// observed targets, and per analyte in original units.
type Scores struct {
	MSE        float64        `json:"mse"`
	RMSE       float64        `json:"rmse"`
	MAE        float64        `json:"mae"`
	PerAnalyte []AnalyteScore `json:"per_analyte"`
}

// Metrics scores the model and two baselines on the same samples and the same observed
// targets. The post_equals_pre baseline predicts the pre value where it was observed and
// the training mean where it was not.
type Metrics struct {
	Samples  int `json:"samples"`
	Observed int `json:"observed"` // observed target values scored
	// Unscored counts observed targets of analytes with no training value: they have no
	// standard unit, so every score leaves them out.
	Unscored int `json:"unscored,omitempty"`
	Scores
	Baselines map[string]Scores `json:"baselines"`
}

// TrainMean is the per-analyte mean of observed post values in original units (0 for an
// analyte never observed).
func TrainMean(train []pipeline.Sample, nAnalytes int) []float32 {
	sum := make([]float64, nAnalytes)
	n := make([]int, nAnalytes)
	for i := range train {
		s := &train[i]
		for j := 0; j < nAnalytes && j < len(s.Post) && j < len(s.PostObserved); j++ {
			if s.PostObserved[j] && finite32(s.Post[j]) {
				sum[j] += float64(s.Post[j])
				n[j]++
			}
		}
	}
	out := make([]float32, nAnalytes)
	for j := range out {
		if n[j] > 0 {
			out[j] = float32(sum[j] / float64(n[j]))
		}
	}
	return out
}

// persistence is the post = pre baseline in original units: the pre value where it was
// observed, the training mean where not.
func persistence(samples []pipeline.Sample, trainMean []float32) [][]float32 {
	out := make([][]float32, len(samples))
	for i := range samples {
		s := &samples[i]
		row := make([]float32, len(trainMean))
		for j := range row {
			row[j] = trainMean[j]
			if j < len(s.PreObserved) && s.PreObserved[j] {
				row[j] = s.Pre[j]
			}
		}
		out[i] = row
	}
	return out
}

func constantPredictions(n int, v []float32) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

type scoreAcc struct {
	se, ae   float64 // scaled
	n        int
	ase, aae []float64 // per analyte, original units
	an       []int
}

func newAcc(a int) *scoreAcc {
	return &scoreAcc{ase: make([]float64, a), aae: make([]float64, a), an: make([]int, a)}
}

func (c *scoreAcc) add(j int, predScaled, trueScaled, predOrig, trueOrig float32) {
	d := float64(predScaled) - float64(trueScaled)
	c.se += d * d
	c.ae += math.Abs(d)
	c.n++
	do := float64(predOrig) - float64(trueOrig)
	c.ase[j] += do * do
	c.aae[j] += math.Abs(do)
	c.an[j]++
}

func (c *scoreAcc) scores(names []string) Scores {
	var s Scores
	if c.n > 0 {
		s.MSE = c.se / float64(c.n)
		s.RMSE = math.Sqrt(s.MSE)
		s.MAE = c.ae / float64(c.n)
	}
	s.PerAnalyte = make([]AnalyteScore, len(names))
	for j, name := range names {
		as := AnalyteScore{Analyte: name, Count: c.an[j]}
		if c.an[j] > 0 {
			as.RMSE = math.Sqrt(c.ase[j] / float64(c.an[j]))
			as.MAE = c.aae[j] / float64(c.an[j])
		}
		s.PerAnalyte[j] = as
	}
	return s
}

// Evaluate scores m and the baselines on samples (which need post values). trainMean is
// the training split's TrainMean; nil computes it from samples themselves, which flatters
// that baseline, so callers should pass the training mean.
func Evaluate(m *Model, samples []pipeline.Sample, trainMean []float32) (*Metrics, error) {
	if m == nil {
		return nil, errors.New("model: evaluate: nil model")
	}
	l := m.cfg.Layout
	a := len(l.Analytes)
	if trainMean == nil {
		trainMean = TrainMean(samples, a)
	}
	if len(trainMean) != a {
		return nil, fmt.Errorf("model: evaluate: %d training means for %d analytes", len(trainMean), a)
	}
	pred := make([]float32, len(samples)*a)
	model := newAcc(a)
	observed, unscored := 0, 0
	err := m.predictChunked(samples, true, pred, func(base int, ss []*scaled) {
		for k, s := range ss {
			i := base + k
			smp := &samples[i]
			for j := 0; j < a; j++ {
				if s.postMask[j] == 0 {
					continue
				}
				if !scorable(m.sc, j) {
					unscored++
					continue
				}
				observed++
				truth := smp.Post[j]
				ps := pred[i*a+j]
				model.add(j, ps, s.post[j], m.sc.UnscaleAnalyte(j, ps), truth)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	mean, err := ScorePredictions(m.sc, samples, constantPredictions(len(samples), trainMean))
	if err != nil {
		return nil, err
	}
	persist, err := ScorePredictions(m.sc, samples, persistence(samples, trainMean))
	if err != nil {
		return nil, err
	}
	return &Metrics{Samples: len(samples), Observed: observed, Unscored: unscored, Scores: model.scores(l.Analytes),
		Baselines: map[string]Scores{BaselineTrainMean: mean, BaselinePostEqualsPre: persist}}, nil
}

// ScorePredictions scores predictions in original units (pred[i] for samples[i]) with
// Evaluate's scorer and the scaler sc: scaled errors over observed targets, and per
// analyte in original units. Baselines other than the built-in two are scored with it.
func ScorePredictions(sc *pipeline.Scaler, samples []pipeline.Sample, pred [][]float32) (Scores, error) {
	a := len(sc.Analytes)
	if len(pred) != len(samples) {
		return Scores{}, fmt.Errorf("model: score: %d predictions for %d samples", len(pred), len(samples))
	}
	acc := newAcc(a)
	for i := range samples {
		s := &samples[i]
		if len(pred[i]) != a || len(s.Post) != a || len(s.PostObserved) != a {
			return Scores{}, fmt.Errorf("model: score: sample %d (subject %q): %d predictions and %d targets for %d analytes", i, s.Subject, len(pred[i]), len(s.Post), a)
		}
		for j := 0; j < a; j++ {
			if s.PostObserved[j] && scorable(sc, j) {
				acc.add(j, sc.ScaleAnalyte(j, pred[i][j]), sc.ScaleAnalyte(j, s.Post[j]), pred[i][j], s.Post[j])
			}
		}
	}
	return acc.scores(sc.Analytes), nil
}

// scorable reports whether analyte j had training values, so that its errors have a
// standard unit (a scaler from before Observed was recorded scores every analyte).
func scorable(sc *pipeline.Scaler, j int) bool {
	return j >= len(sc.Observed) || sc.Observed[j] > 0
}
