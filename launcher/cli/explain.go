package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// explainCmd answers "what does each prescription do" for cases, with a model on this
// machine: the serving container's parsing and its effects option, run in process.
type explainCmd struct {
	e         *Env
	model     string
	in        predictCmd // the case file, read and typed as predict reads it
	out       string
	doseScale float64
	analytes  string
}

func newExplain(e *Env, fs *flag.FlagSet) unit {
	c := &explainCmd{e: e, in: predictCmd{e: e}}
	fs.StringVar(&c.model, "model", "", "a trained model's folder (launcher local's OUTPUT/model, or a downloaded one; required)")
	fs.StringVar(&c.in.input, "input", "", "cases: a .json or .csv file as /invocations takes them, or - for stdin (required)")
	fs.StringVar(&c.in.contentType, "content-type", "", "application/json or text/csv (default: from the --input extension)")
	fs.StringVar(&c.out, "out", "effects.json", "write the answer (predictions with their effects, JSON) to this file")
	fs.Float64Var(&c.doseScale, "dose-scale", 2, "also predict with each row's dose times this factor (1: no scaled variant)")
	fs.StringVar(&c.analytes, "analytes", "", "comma-separated analytes to print (default: all; the file always has all)")
	return c
}

func (c *explainCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("explain: unexpected argument %q", args[0])
	}
	if c.model == "" || c.in.input == "" {
		return usagef("--model and --input are required")
	}
	if !(c.doseScale >= 0 && c.doseScale <= 1000) {
		return usagef("--dose-scale %v: expected a number in [0, 1000]", c.doseScale)
	}
	ct, err := c.in.resolveContentType()
	if err != nil {
		return err
	}
	body, err := c.in.readInput()
	if err != nil {
		return err
	}
	m, err := serve.LoadDir(c.model)(ctx)
	if err != nil {
		return fmt.Errorf("--model %s: %w", c.model, err)
	}
	resp, err := serve.Explain(ctx, m, ct, body, c.doseScale)
	if err != nil {
		return fmt.Errorf("--input %s: %w", c.in.input, err)
	}
	show, err := pickAnalytes(resp.Analytes, c.analytes)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(c.out, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}); err != nil {
		return err
	}
	if err := printEffects(c.e.Stdout, resp, show); err != nil {
		return err
	}
	fmt.Fprintf(c.e.Stdout, "wrote %s: %d cases\n", c.out, len(resp.Predictions))
	return nil
}

// pickAnalytes is the positions of the named analytes (all when list is empty).
func pickAnalytes(names []string, list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		out := make([]int, len(names))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	var out []int
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		i := -1
		for k, a := range names {
			if strings.EqualFold(a, n) {
				i = k
			}
		}
		if i < 0 {
			return nil, usagef("--analytes: %q is not one of the model's analytes (%s)", n, strings.Join(names, ", "))
		}
		out = append(out, i)
	}
	return out, nil
}

// printEffects writes one line per case, row and analyte: the predicted post value, the
// prediction without the row, the change it makes, and the prediction with its dose
// scaled.
func printEffects(w io.Writer, r *serve.Response, show []int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\trow\tdrug\tanalyte\tpost\twithout row\tchange\twith scaled dose")
	for c, p := range r.Predictions {
		id := p.ID
		if id == "" {
			id = strconv.Itoa(c)
		}
		if p.Start != "" {
			id += " " + p.Start
		}
		for _, e := range p.Effects {
			drug := e.Drug
			if drug == "" {
				drug = "(embedding)"
			}
			for _, j := range show {
				scaled := ""
				if e.WithScaledDose != nil {
					scaled = fmt.Sprintf("%.4g (x%g)", e.WithScaledDose.Vals[j], e.DoseScale)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.4g\t%.4g\t%s\t%s\n", id, e.Row, drug, r.Analytes[j],
					p.Post.Vals[j], e.Without.Vals[j], signed(e.Change.Vals[j]), scaled)
			}
		}
	}
	return tw.Flush()
}

// signed prints a change with its sign, so a rise and a fall read apart at a glance.
func signed(v float32) string {
	if math.IsNaN(float64(v)) {
		return ""
	}
	return fmt.Sprintf("%+.3g", v)
}
