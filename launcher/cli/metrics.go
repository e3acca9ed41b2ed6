package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/blueblood/blueblood/container/metricdef"
)

// metricsCmd reads a training job's per-epoch metric lines from its log and
// shows them as a table and a text learning curve.
type metricsCmd struct {
	e      *Env
	follow bool
	height int
}

func newMetrics(e *Env, fs *flag.FlagSet) unit {
	c := &metricsCmd{e: e}
	fs.BoolVar(&c.follow, "follow", false, "keep reading while the job runs, printing new epochs and the curve as they come")
	fs.IntVar(&c.height, "height", 12, "rows of the learning curve (4-60)")
	return c
}

// reEpochLine finds the per-epoch line ("epoch=E/N name=value ..."); the closing
// "best epoch=" line repeats an epoch and is skipped.
var reEpochLine = regexp.MustCompile(`(?:^|\s)epoch=([0-9]+)/([0-9]+)(?:\s|$)`)

type epochMetrics struct {
	epoch, of int
	values    map[string]float64
}

// epochCollector is an io.Writer that parses log lines as they are printed.
type epochCollector struct {
	partial []byte
	epochs  []epochMetrics
	seen    map[int]bool
}

func (c *epochCollector) Write(p []byte) (int, error) {
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		c.line(string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
}

func (c *epochCollector) line(s string) {
	if strings.Contains(s, "best epoch=") {
		return
	}
	m := reEpochLine.FindStringSubmatch(s)
	if m == nil {
		return
	}
	e, _ := strconv.Atoi(m[1])
	of, _ := strconv.Atoi(m[2])
	if c.seen == nil {
		c.seen = map[int]bool{}
	}
	if c.seen[e] {
		return
	}
	c.seen[e] = true
	c.epochs = append(c.epochs, epochMetrics{epoch: e, of: of, values: metricdef.Scrape(s)})
}

func (c *metricsCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("metrics needs exactly one training job name")
	}
	if err := checkName("job name", args[0], false); err != nil {
		return err
	}
	if c.height < 4 || c.height > 60 {
		return usagef("--height %d: expected 4 to 60", c.height)
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	job := args[0]
	out, err := c.e.describeJob(ctx, cl, job)
	if err != nil {
		return err
	}
	col := &epochCollector{}
	tail := c.e.newLogTail(cl.Logs, job)
	tail.out = col
	shown := 0
	for {
		if err := tail.poll(ctx); err != nil {
			return err
		}
		done := terminal(out.TrainingJobStatus)
		if len(col.epochs) > shown && (c.follow || done) {
			if c.follow {
				fmt.Fprintf(c.e.Stdout, "%s: %s, %d epochs so far\n", job, out.SecondaryStatus, len(col.epochs))
			}
			writeEpochTable(c.e.Stdout, col.epochs)
			writeCurve(c.e.Stdout, col.epochs, c.height)
			shown = len(col.epochs)
		}
		if done || !c.follow {
			if len(col.epochs) == 0 {
				fmt.Fprintf(c.e.Stderr, "no epoch lines in the log of %s yet (%s)\n", job, out.SecondaryStatus)
			} else if !done {
				writeEpochTable(c.e.Stdout, col.epochs)
				writeCurve(c.e.Stdout, col.epochs, c.height)
			}
			return nil
		}
		if err := c.e.Sleep(ctx, c.e.logPoll()); err != nil {
			return err
		}
		if out, err = c.e.describeJob(ctx, cl, job); err != nil {
			return err
		}
	}
}

func writeEpochTable(w io.Writer, eps []epochMetrics) {
	var names []string
	for _, n := range metricdef.Names {
		if slices.ContainsFunc(eps, func(e epochMetrics) bool { _, ok := e.values[n]; return ok }) {
			names = append(names, n)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "epoch\t%s\t\n", strings.Join(names, "\t"))
	for _, e := range eps {
		row := []string{fmt.Sprintf("%d/%d", e.epoch, e.of)}
		for _, n := range names {
			if v, ok := e.values[n]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', 6, 64))
			} else {
				row = append(row, "-")
			}
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	tw.Flush()
}

// curveSeries are the plotted metrics and their marks; where both fall on one
// cell the mark is '*'.
var curveSeries = []struct {
	name string
	mark byte
}{{metricdef.TrainLoss, 't'}, {metricdef.ValidationLoss, 'v'}}

// maxCurveWidth caps the columns; longer runs are sampled evenly.
const maxCurveWidth = 72

func writeCurve(w io.Writer, eps []epochMetrics, height int) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range eps {
		for _, s := range curveSeries {
			if v, ok := e.values[s.name]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return
	}
	if hi == lo {
		hi = lo + 1
	}
	cols := min(len(eps), maxCurveWidth)
	grid := make([][]byte, height)
	for i := range grid {
		grid[i] = bytes.Repeat([]byte{' '}, cols)
	}
	for x := range cols {
		e := eps[x*len(eps)/cols]
		for _, s := range curveSeries {
			v, ok := e.values[s.name]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			y := int(math.Round((hi - v) / (hi - lo) * float64(height-1)))
			if grid[y][x] != ' ' && grid[y][x] != s.mark {
				grid[y][x] = '*'
			} else {
				grid[y][x] = s.mark
			}
		}
	}
	fmt.Fprintf(w, "learning curve (t = %s, v = %s, * = both)\n", curveSeries[0].name, curveSeries[1].name)
	for y, row := range grid {
		label := ""
		switch y {
		case 0:
			label = strconv.FormatFloat(hi, 'g', 4, 64)
		case height - 1:
			label = strconv.FormatFloat(lo, 'g', 4, 64)
		}
		fmt.Fprintf(w, "%10s |%s\n", label, strings.TrimRight(string(row), " "))
	}
	fmt.Fprintf(w, "%10s +%s\n", "", strings.Repeat("-", cols))
	fmt.Fprintf(w, "%10s  epoch %d%s%d\n", "", eps[0].epoch, strings.Repeat(" ", max(1, cols-len(fmt.Sprint(eps[0].epoch))-len(fmt.Sprint(eps[len(eps)-1].epoch))-6)), eps[len(eps)-1].epoch)
}
