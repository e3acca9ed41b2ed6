package cli

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// trialResult is one row of a leaderboard.
type trialResult struct {
	name     string
	hp       map[string]string
	status   string
	metrics  map[string]float64
	billable int32
	model    string
	failure  string
	warm     warmInfo
}

func resultOf(name string, hp map[string]string, out *sagemaker.DescribeTrainingJobOutput) trialResult {
	r := trialResult{name: name, hp: hp, status: string(out.TrainingJobStatus), metrics: map[string]float64{},
		failure: oneLine(aws.ToString(out.FailureReason))}
	if r.hp == nil {
		r.hp = out.HyperParameters
	}
	for _, m := range out.FinalMetricDataList {
		if m.Value != nil {
			r.metrics[aws.ToString(m.MetricName)] = float64(*m.Value)
		}
	}
	if out.BillableTimeInSeconds != nil {
		r.billable = *out.BillableTimeInSeconds
	}
	if out.ModelArtifacts != nil {
		r.model = aws.ToString(out.ModelArtifacts.S3ModelArtifacts)
	}
	r.warm = warmOf(out)
	return r
}

// sortResults orders by the objective, lowest first; jobs without it go last.
func sortResults(rs []trialResult, objective string) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, aok := rs[i].metrics[objective]
		b, bok := rs[j].metrics[objective]
		if aok != bok {
			return aok
		}
		if aok && a != b {
			return a < b
		}
		return rs[i].name < rs[j].name
	})
}

func objectiveText(r trialResult, objective string) string {
	if v, ok := r.metrics[objective]; ok {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return "-"
}

func writeLeaderboardTable(w io.Writer, objective string, keys []string, rs []trialResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RANK\t%s\tSTATUS", objective)
	for _, k := range keys {
		fmt.Fprintf(tw, "\t%s", k)
	}
	fmt.Fprintln(tw, "\tBILLABLE_S\tSTARTUP_S\tWARM\tJOB\tMODEL")
	for i, r := range rs {
		fmt.Fprintf(tw, "%d\t%s\t%s", i+1, objectiveText(r, objective), r.status)
		for _, k := range keys {
			fmt.Fprintf(tw, "\t%s", r.hp[k])
		}
		model := r.model
		if model == "" {
			model = "-"
		}
		warm := "-"
		if r.warm.warm {
			warm = "yes"
		}
		fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t%s\n", r.billable, startupText(r), warm, r.name, model)
	}
	return tw.Flush()
}

func writeLeaderboardCSV(w io.Writer, objective string, keys []string, rs []trialResult) error {
	cw := csv.NewWriter(w)
	head := append([]string{"rank", "job", "status", objective}, keys...)
	if err := cw.Write(append(head, "billable_seconds", "model_artifacts", "failure_reason", "startup_seconds", "warm_start")); err != nil {
		return err
	}
	for i, r := range rs {
		obj := ""
		if v, ok := r.metrics[objective]; ok {
			// metrics arrive as float32: their shortest float32 text (0.705625, not 0.7056249976158142)
			obj = strconv.FormatFloat(v, 'g', -1, 32)
		}
		row := []string{strconv.Itoa(i + 1), r.name, r.status, obj}
		for _, k := range keys {
			row = append(row, r.hp[k])
		}
		startup := startupText(r)
		if startup == "-" {
			startup = ""
		}
		if err := cw.Write(append(row, strconv.Itoa(int(r.billable)), r.model, r.failure, startup, strconv.FormatBool(r.warm.warm))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeLeaderboardPNG draws the objective against each hyperparameter, one
// panel per hyperparameter (log x axis where the values span decades).
func writeLeaderboardPNG(w io.Writer, objective string, keys []string, rs []trialResult) error {
	if len(keys) == 0 {
		keys = []string{"epochs"}
	}
	cols := min(len(keys), 2)
	rows := (len(keys) + cols - 1) / cols
	img := vgimg.New(vg.Length(cols)*4*vg.Inch, vg.Length(rows)*3*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, k := range keys {
		p := plot.New()
		p.Title.Text = objective + " vs " + k
		p.X.Label.Text = k
		p.Y.Label.Text = objective
		var pts plotter.XYs
		positive := true
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range rs {
			y, ok := r.metrics[objective]
			x, err := strconv.ParseFloat(r.hp[k], 64)
			if !ok || err != nil {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			positive = positive && x > 0
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		if len(pts) > 0 {
			if positive && hi/lo >= 100 {
				p.X.Scale = plot.LogScale{}
				p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			}
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			s.GlyphStyle.Color = color.RGBA{R: 178, G: 34, B: 34, A: 255}
			s.GlyphStyle.Radius = vg.Points(3)
			p.Add(s, plotter.NewGrid())
		}
		plots[i/cols][i%cols] = p
	}
	canvases := plot.Align(plots, tiles, dc)
	for r := range plots {
		for c := range plots[r] {
			if plots[r][c] != nil {
				plots[r][c].Draw(canvases[r][c])
			}
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// writeLeaderboardFiles prints the table and writes <prefix>-leaderboard.csv and .png.
func writeLeaderboardFiles(e *Env, prefix, objective string, keys []string, rs []trialResult) error {
	sortResults(rs, objective)
	markWarmStarts(rs)
	if err := writeLeaderboardTable(e.Stdout, objective, keys, rs); err != nil {
		return err
	}
	if line := warmSummary(rs); line != "" {
		fmt.Fprintln(e.Stdout, line)
	}
	csvPath, pngPath := prefix+"-leaderboard.csv", prefix+"-leaderboard.png"
	if err := atomicfile.Write(csvPath, func(w io.Writer) error { return writeLeaderboardCSV(w, objective, keys, rs) }); err != nil {
		return err
	}
	if err := atomicfile.Write(pngPath, func(w io.Writer) error { return writeLeaderboardPNG(w, objective, keys, rs) }); err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "leaderboard: %s\nchart:       %s\n", csvPath, pngPath)
	return nil
}
