package trainer

import (
	"bytes"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/blueblood/blueblood/pipeline"
)

const chartWidth, chartHeight = 8 * vg.Inch, 5 * vg.Inch

// WriteLossChart draws training and validation loss per epoch as a PNG.
func WriteLossChart(path string, history []EpochRecord) error {
	p := plot.New()
	p.Title.Text = "Loss per epoch"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "masked MSE (scaled units)"
	p.Legend.Top = true
	train, val := plotter.XYs{}, plotter.XYs{}
	var best plotter.XYs
	for _, h := range history {
		if isFinite(h.TrainLoss) {
			train = append(train, plotter.XY{X: float64(h.Epoch), Y: h.TrainLoss})
		}
		if isFinite(h.ValidationLoss) {
			val = append(val, plotter.XY{X: float64(h.Epoch), Y: h.ValidationLoss})
			if h.Best {
				best = plotter.XYs{{X: float64(h.Epoch), Y: h.ValidationLoss}}
			}
		}
	}
	for _, series := range []struct {
		name string
		xys  plotter.XYs
		dash bool
	}{{"train", train, false}, {"validation", val, true}} {
		if len(series.xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(series.xys)
		if err != nil {
			return fmt.Errorf("loss chart: %w", err)
		}
		if series.dash {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			pts.Shape = nil
		}
		p.Add(l, pts)
		p.Legend.Add(series.name, l)
	}
	if best != nil {
		s, err := plotter.NewScatter(best)
		if err != nil {
			return fmt.Errorf("loss chart: %w", err)
		}
		s.Radius = vg.Points(5)
		p.Add(s)
		p.Legend.Add("best epoch", s)
	}
	return savePNG(path, p)
}

// StandardizedErrors returns predicted minus observed for every observed target, divided
// by that analyte's standard deviation in the training targets, so analytes measured in
// different units share one axis.
func StandardizedErrors(train, samples []pipeline.Sample, pred [][]float32, nAnalytes int) []float64 {
	sd := targetStdDev(train, nAnalytes)
	var out []float64
	for i := range samples {
		if i >= len(pred) {
			break
		}
		s := &samples[i]
		for j := 0; j < nAnalytes && j < len(s.PostObserved) && j < len(pred[i]); j++ {
			if !s.PostObserved[j] {
				continue
			}
			e := (float64(pred[i][j]) - float64(s.Post[j])) / sd[j]
			if isFinite(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

func targetStdDev(train []pipeline.Sample, n int) []float64 {
	sum, sq, cnt := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range train {
		s := &train[i]
		for j := 0; j < n && j < len(s.PostObserved); j++ {
			if s.PostObserved[j] && isFinite(float64(s.Post[j])) {
				v := float64(s.Post[j])
				sum[j] += v
				sq[j] += v * v
				cnt[j]++
			}
		}
	}
	sd := make([]float64, n)
	for j := range sd {
		sd[j] = 1 // an analyte never observed in training keeps its raw units
		if cnt[j] > 1 {
			mean := sum[j] / cnt[j]
			if v := sq[j]/cnt[j] - mean*mean; v > 1e-12 {
				sd[j] = math.Sqrt(v)
			}
		}
	}
	return sd
}

// WriteErrorChart draws a histogram of standardized prediction errors as a PNG.
func WriteErrorChart(path, split string, errs []float64) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Prediction error on %s (%d targets)", split, len(errs))
	p.X.Label.Text = "(predicted - observed) / training standard deviation of the analyte"
	p.Y.Label.Text = "count"
	if len(errs) > 0 {
		h, err := plotter.NewHist(plotter.Values(errs), 40)
		if err != nil {
			return fmt.Errorf("error chart: %w", err)
		}
		p.Add(h)
	}
	return savePNG(path, p)
}

func savePNG(path string, p *plot.Plot) error {
	wt, err := p.WriterTo(chartWidth, chartHeight, "png")
	if err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
