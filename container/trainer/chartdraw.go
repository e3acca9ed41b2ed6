package trainer

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"sync"

	"codeberg.org/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// The charts are drawn with gonum's vg layer straight onto a PNG canvas. Package
// gonum.org/v1/plot is not used on purpose: importing it registers all twelve
// Liberation fonts (about 4.4 MB) and links the pdf, svg, eps and tex backends, none of
// which a PNG with one typeface needs.

const chartWidth, chartHeight = 8 * vg.Inch, 5 * vg.Inch

var chartFont = font.Font{Typeface: "Liberation", Variant: "Serif"}

// chartFonts parses the one typeface the charts use, once.
var chartFonts = sync.OnceValues(func() (*font.Cache, error) {
	f, err := opentype.Parse(liberationserifregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("parse chart font: %w", err)
	}
	return font.NewCache(font.Collection{{Font: chartFont, Face: f}}), nil
})

// chart is one figure: a title, axis labels and a data area with linear axes.
type chart struct {
	title, xLabel, yLabel string
	x0, x1, y0, y1        float64 // data range shown
	xWhole                bool    // x ticks are whole numbers (epochs)
	counts                bool    // y holds counts: the axis starts at 0, ticks are whole

	fonts *font.Cache
	img   *vgimg.Canvas
	all   draw.Canvas // the whole image
	area  draw.Canvas // the data area, for clipping
}

const (
	chartPad      = vg.Length(6)
	tickLen       = vg.Length(5)
	titleSize     = vg.Length(12)
	labelSize     = vg.Length(12)
	tickLabelSize = vg.Length(10)
	axisWidth     = vg.Length(1)
)

func (ch *chart) style(size vg.Length, xa text.XAlignment, ya text.YAlignment) text.Style {
	f := chartFont
	f.Size = size
	return text.Style{Color: color.Black, Font: f, XAlign: xa, YAlign: ya, Handler: text.Plain{Fonts: ch.fonts}}
}

// layout picks tick positions, sizes the margins from the labels and fills the
// background. It must run before anything is drawn.
func (ch *chart) layout() (xticks, yticks []float64, err error) {
	if ch.fonts, err = chartFonts(); err != nil {
		return nil, nil, err
	}
	ch.x0, ch.x1 = widen(ch.x0, ch.x1)
	ch.y0, ch.y1 = widen(ch.y0, ch.y1)
	if ch.counts {
		ch.y0, ch.y1 = 0, max(ch.y1, 1)
	}
	xticks, xprec := niceTicks(ch.x0, ch.x1, 6, ch.xWhole)
	yticks, yprec := niceTicks(ch.y0, ch.y1, 6, ch.counts)
	ch.img = vgimg.New(chartWidth, chartHeight)
	ch.all = draw.New(ch.img)

	tick := ch.style(tickLabelSize, text.XRight, text.YCenter)
	var ylabW vg.Length
	for _, v := range yticks {
		ylabW = max(ylabW, tick.Width(tickLabel(v, yprec)))
	}
	label := ch.style(labelSize, text.XCenter, text.YBottom)
	title := ch.style(titleSize, text.XCenter, text.YTop)
	left := chartPad + label.Height(ch.yLabel) + chartPad + ylabW + tickLen + 3
	bottom := chartPad + label.Height(ch.xLabel) + chartPad + tick.Height("0") + tickLen + 3
	top := chartPad
	if ch.title != "" {
		top += title.Height(ch.title) + chartPad
	}
	right := chartPad + tick.Width(tickLabel(ch.x1, xprec))/2
	ch.area = draw.Crop(ch.all, left, -right, bottom, -top)

	// axes and ticks
	r := ch.area.Rectangle
	line := draw.LineStyle{Color: color.Black, Width: axisWidth}
	ch.all.StrokeLines(line, []vg.Point{{X: r.Min.X, Y: r.Max.Y}, r.Min, {X: r.Max.X, Y: r.Min.Y}})
	xt := ch.style(tickLabelSize, text.XCenter, text.YTop)
	for _, v := range xticks {
		x := ch.px(v)
		ch.all.StrokeLine2(line, x, r.Min.Y, x, r.Min.Y-tickLen)
		ch.all.FillText(xt, vg.Point{X: x, Y: r.Min.Y - tickLen - 2}, tickLabel(v, xprec))
	}
	for _, v := range yticks {
		y := ch.py(v)
		ch.all.StrokeLine2(line, r.Min.X, y, r.Min.X-tickLen, y)
		ch.all.FillText(tick, vg.Point{X: r.Min.X - tickLen - 2, Y: y}, tickLabel(v, yprec))
	}

	// title and axis labels
	full := ch.all.Rectangle
	if ch.title != "" {
		ch.all.FillText(title, vg.Point{X: (full.Min.X + full.Max.X) / 2, Y: full.Max.Y - chartPad}, ch.title)
	}
	ch.all.FillText(label, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: full.Min.Y + chartPad}, ch.xLabel)
	ylab := ch.style(labelSize, text.XCenter, text.YTop)
	ylab.Rotation = math.Pi / 2
	ch.all.FillText(ylab, vg.Point{X: full.Min.X + chartPad, Y: (r.Min.Y + r.Max.Y) / 2}, ch.yLabel)
	return xticks, yticks, nil
}

// px and py map data coordinates to the canvas.
func (ch *chart) px(x float64) vg.Length {
	r := ch.area.Rectangle
	return r.Min.X + vg.Length((x-ch.x0)/(ch.x1-ch.x0))*(r.Max.X-r.Min.X)
}

func (ch *chart) py(y float64) vg.Length {
	r := ch.area.Rectangle
	return r.Min.Y + vg.Length((y-ch.y0)/(ch.y1-ch.y0))*(r.Max.Y-r.Min.Y)
}

func (ch *chart) pt(x, y float64) vg.Point { return vg.Point{X: ch.px(x), Y: ch.py(y)} }

// legendEntry is one row of the legend: a label and how to draw its sample.
type legendEntry struct {
	label  string
	line   *draw.LineStyle
	glyph  *draw.GlyphStyle
	swatch color.Color
}

// legend draws the entries in the top right corner of the data area.
func (ch *chart) legend(entries []legendEntry) {
	sty := ch.style(labelSize, text.XRight, text.YCenter)
	const sampleW = vg.Length(20)
	r := ch.area.Rectangle
	rowH := sty.Height("Xg") + 2
	y := r.Max.Y - rowH/2
	for _, e := range entries {
		x1 := r.Max.X - 4
		x0 := x1 - sampleW
		switch {
		case e.swatch != nil:
			pts := []vg.Point{{X: x0, Y: y - rowH/3}, {X: x1, Y: y - rowH/3}, {X: x1, Y: y + rowH/3}, {X: x0, Y: y + rowH/3}}
			ch.all.FillPolygon(e.swatch, pts)
		case e.line != nil:
			ch.all.StrokeLine2(*e.line, x0, y, x1, y)
		}
		if e.glyph != nil {
			ch.all.DrawGlyphNoClip(*e.glyph, vg.Point{X: (x0 + x1) / 2, Y: y})
		}
		ch.all.FillText(sty, vg.Point{X: x0 - 5, Y: y}, e.label)
		y -= rowH
	}
}

// polyline draws a line through the points, clipped to the data area.
func (ch *chart) polyline(sty draw.LineStyle, pts []vg.Point) {
	if len(pts) < 2 {
		return
	}
	ch.area.StrokeLines(sty, ch.area.ClipLinesXY(pts)...)
}

// save encodes the canvas as PNG and writes it atomically.
func (ch *chart) save(path string) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ch.img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// widen makes a range drawable: finite, non-empty and with a little room on both
// sides so that markers at the extremes are not cut.
func widen(lo, hi float64) (float64, float64) {
	if !isFinite(lo) || !isFinite(hi) || lo > hi {
		return 0, 1
	}
	if hi == lo {
		d := math.Max(math.Abs(lo)*0.1, 0.5)
		return lo - d, hi + d
	}
	d := (hi - lo) * 0.03
	return lo - d, hi + d
}

// niceTicks returns round tick values about (hi-lo)/n apart inside [lo, hi] (whole
// numbers only when whole is set) and the number of decimals their labels need.
func niceTicks(lo, hi float64, n int, whole bool) ([]float64, int) {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if whole {
		step = math.Max(math.Round(step), 1)
	}
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if r := step / math.Pow(10, -float64(prec)); math.Abs(r-math.Round(r)) > 1e-6 {
		prec++ // 2.5, 0.25, ...
	}
	var ticks []float64
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9 && len(ticks) < 100; i++ {
		ticks = append(ticks, i*step)
	}
	return ticks, prec
}

func tickLabel(v float64, prec int) string {
	if math.Abs(v) < 1e-12 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}
