package trainer

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// writeLossChart draws training and validation loss per epoch as a PNG.
func writeLossChart(path string, history []EpochRecord) error {
	var train, val []vg.Point // data coordinates
	var best *vg.Point
	ch := &chart{title: "Loss per epoch", xLabel: "epoch", yLabel: "masked MSE (scaled units)",
		x0: math.Inf(1), x1: math.Inf(-1), y0: math.Inf(1), y1: math.Inf(-1), xWhole: true}
	see := func(x, y float64) vg.Point {
		ch.x0, ch.x1 = math.Min(ch.x0, x), math.Max(ch.x1, x)
		ch.y0, ch.y1 = math.Min(ch.y0, y), math.Max(ch.y1, y)
		return vg.Point{X: vg.Length(x), Y: vg.Length(y)}
	}
	for _, h := range history {
		if isFinite(h.TrainLoss) {
			train = append(train, see(float64(h.Epoch), h.TrainLoss))
		}
		if isFinite(h.ValidationLoss) {
			p := see(float64(h.Epoch), h.ValidationLoss)
			val = append(val, p)
			if h.Best {
				best = &p
			}
		}
	}
	if _, _, err := ch.layout(); err != nil {
		return fmt.Errorf("loss chart: %w", err)
	}
	toCanvas := func(pts []vg.Point) []vg.Point {
		out := make([]vg.Point, len(pts))
		for i, p := range pts {
			out[i] = ch.pt(float64(p.X), float64(p.Y))
		}
		return out
	}
	solid := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	dashed := solid
	dashed.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	ring := draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}
	bigRing := ring
	bigRing.Radius = vg.Points(5)

	var legend []legendEntry
	if len(train) > 0 {
		pts := toCanvas(train)
		ch.polyline(solid, pts)
		for _, p := range pts {
			ch.area.DrawGlyph(ring, p)
		}
		legend = append(legend, legendEntry{label: "train (dropout on, loss weights)", line: &solid})
	}
	if len(val) > 0 {
		pts := toCanvas(val)
		ch.polyline(dashed, pts)
		if len(pts) == 1 { // a lone point has no line to show it
			ch.area.DrawGlyph(ring, pts[0])
		}
		legend = append(legend, legendEntry{label: "validation", line: &dashed})
	}
	if best != nil {
		ch.area.DrawGlyph(bigRing, ch.pt(float64(best.X), float64(best.Y)))
		legend = append(legend, legendEntry{label: "best epoch", glyph: &bigRing})
	}
	ch.legend(legend)
	return ch.save(path)
}

// standardizedErrors returns predicted minus observed for every observed target, divided
// by that analyte's standard deviation in the training targets, so analytes measured in
// different units share one axis.
func standardizedErrors(train, samples []pipeline.Sample, pred [][]float32, nAnalytes int) []float64 {
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

// writeErrorChart draws a histogram of standardized prediction errors as a PNG.
func writeErrorChart(path, split string, errs []float64) error {
	const bins = 40
	ch := &chart{title: fmt.Sprintf("Prediction error on %s (%d targets)", split, len(errs)),
		xLabel: "(predicted - observed) / training standard deviation of the analyte", yLabel: "count",
		counts: true}
	var counts []int
	var lo, width float64
	if len(errs) > 0 {
		hi := slices.Max(errs)
		lo = slices.Min(errs)
		if hi == lo {
			lo, hi = lo-0.5, hi+0.5
		}
		width = (hi - lo) / bins
		counts = make([]int, bins)
		for _, e := range errs {
			counts[min(int((e-lo)/width), bins-1)]++
		}
		ch.x0, ch.x1 = lo, hi
		ch.y0, ch.y1 = 0, float64(slices.Max(counts))
	}
	if _, _, err := ch.layout(); err != nil {
		return fmt.Errorf("error chart: %w", err)
	}
	outline := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	fill := color.Gray{Y: 128}
	for i, n := range counts {
		if n == 0 {
			continue
		}
		a, b := ch.pt(lo+float64(i)*width, 0), ch.pt(lo+float64(i+1)*width, float64(n))
		box := []vg.Point{a, {X: b.X, Y: a.Y}, b, {X: a.X, Y: b.Y}}
		ch.area.FillPolygon(fill, box)
		ch.area.StrokeLines(outline, append(box, a))
	}
	return ch.save(path)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// WriteCVChart draws a cross-validation as a PNG: every method's RMSE per fold (one line
// each, ringed points) so folds where the model loses to a baseline stand out.
func WriteCVChart(path string, res *model.CVResult) error {
	ch := &chart{title: fmt.Sprintf("%d-fold cross-validation by subject (seed %d)", res.Folds, res.Seed),
		xLabel: "fold", yLabel: "RMSE (standard units, observed cells)",
		x0: 1, x1: float64(max(res.Folds, 2)), y0: math.Inf(1), y1: math.Inf(-1), xWhole: true}
	for _, f := range res.PerFold {
		for _, v := range f.RMSE {
			if isFinite(v) {
				ch.y0, ch.y1 = math.Min(ch.y0, v), math.Max(ch.y1, v)
			}
		}
	}
	if isFinite(ch.y0) && isFinite(ch.y1) {
		ch.y1 += 0.4 * math.Max(ch.y1-ch.y0, 0.05) // room for the legend above the lines
	}
	if _, _, err := ch.layout(); err != nil {
		return fmt.Errorf("cv chart: %w", err)
	}
	dashes := [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}}
	var legend []legendEntry
	for i, ms := range res.Methods {
		line := draw.LineStyle{Color: color.Black, Width: vg.Points(1), Dashes: dashes[i%len(dashes)]}
		mark := draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3), Shape: glyphs[i%len(glyphs)]}
		var pts []vg.Point
		for _, f := range res.PerFold {
			if v := f.RMSE[ms.Method]; isFinite(v) {
				pts = append(pts, ch.pt(float64(f.Fold), v))
			}
		}
		ch.polyline(line, pts)
		for _, p := range pts {
			ch.area.DrawGlyph(mark, p)
		}
		legend = append(legend, legendEntry{label: fmt.Sprintf("%s (%.3f)", ms.Method, ms.Mean), line: &line, glyph: &mark})
	}
	ch.legend(legend)
	return ch.save(path)
}
