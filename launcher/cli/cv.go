package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// Files cvCmd writes into --output.
const (
	cvJSONFile  = "cv.json"
	cvChartFile = "cv.png"
)

// cvCmd is "launcher cv": k-fold cross-validation by subject, in this process.
type cvCmd struct {
	e        *Env
	inputs   listFlag
	folds    int
	seed     int64
	output   string
	parallel int
	slices   sliceFlag
	hp       hpValues
	cands    listFlag
	inner    int
}

func newCV(e *Env, fs *flag.FlagSet) unit {
	c := &cvCmd{e: e}
	fs.Var(&c.inputs, "input", "table or folder to read (repeatable; local files only)")
	fs.IntVar(&c.folds, "folds", 5, "number of folds, each a set of whole subjects")
	fs.Int64Var(&c.seed, "seed", 42, "seed of the folds, the inner validation splits, the networks and the bootstrap")
	fs.StringVar(&c.output, "output", "cv", "folder that receives "+cvJSONFile+" and "+cvChartFile)
	fs.IntVar(&c.parallel, "parallel", 0, "folds trained at once (0 = one per CPU core; capped by the cores and the memory)")
	fs.Var(&c.slices, "slice", "also score the groups with a drug on the analyte it targets: DRUG=ANALYTE, or a drug alone for Potassium Chloride, Insulin, Magnesium Sulfate, Calcium Gluconate (repeatable)")
	fs.Var(&c.cands, "candidate", "nested selection: a setting each fold may train, `KEY=VALUE,...` over the --hp values (repeatable; each fold trains the one with the lowest RMSE over --inner-folds folds of its own training subjects)")
	fs.IntVar(&c.inner, "inner-folds", 3, "with --candidate: the inner folds that choose each fold's setting")
	c.hp.register(fs)
	mc, _ := hparams.Lookup("missing_code") // as launcher prepare has it
	c.hp.flag(fs, mc)
	return c
}

func (c *cvCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("cv: unexpected argument %q", args[0])
	}
	if len(c.inputs) == 0 {
		return usagef("--input is required: a table or folder")
	}
	for _, in := range c.inputs {
		if strings.HasPrefix(in, "s3://") {
			return usagef("--input %s: cv reads local files only; copy the table here first", in)
		}
	}
	if c.folds < 2 || c.folds > 100 {
		return usagef("--folds %d: expected an integer in [2, 100]", c.folds)
	}
	if c.parallel < 0 || c.parallel > maxCVParallel {
		return usagef("--parallel %d: expected 0 (one per core) to %d", c.parallel, maxCVParallel)
	}
	for _, name := range cvOwnSplits {
		if _, set := c.hp.values[name]; set {
			return usagef("--hp %s: cv makes its own folds and test splits; use --folds", name)
		}
	}
	spec, _ := hparams.Lookup("seed")
	if err := c.hp.set("--seed", spec, strconv.FormatInt(c.seed, 10)); err != nil {
		return usageError(err.Error())
	}
	// The folds are cv's test splits: no test_fraction applies, so none limits
	// validation_fraction.
	values := maps.Clone(c.hp.values)
	values["test_fraction"] = "0"
	plain, hp, err := trainer.ParseHyperparameters(values)
	if err != nil {
		return usageError(err.Error())
	}
	lim, err := pipeline.LimitsFromEnv(c.e.Getenv)
	if err != nil {
		return usagef("%v", err)
	}
	if err := checkCVOutput(c.output); err != nil {
		return err
	}
	ds, rep, err := readCVInputs(ctx, c.inputs, hp.ReadOptions(lim))
	if err != nil {
		return err
	}
	if w := rep.MinusOneWarning(); w != "" {
		fmt.Fprintln(c.e.Stderr, w)
	}
	if line := rep.InconsistencyLine(); line != "" {
		fmt.Fprintln(c.e.Stderr, line)
	}
	samples, err := limitForArchitecture(ds, hp)
	if err != nil {
		return err
	}
	cfg := hp.Config
	cfg.Layout = ds.Layout
	cands, err := cvCandidates(c.cands, values, ds.Layout)
	if err != nil {
		return err
	}
	if len(cands) > 0 && (c.inner < 2 || c.inner > 20) {
		return usagef("--inner-folds %d: expected an integer in [2, 20]", c.inner)
	}
	perFold, err := cvFoldBytes(cfg, hp.BatchSize, samples)
	if err != nil {
		return err
	}
	for _, cand := range cands { // a fold trains one candidate at a time
		b, err := cvFoldBytes(cand.Config, cand.Train.BatchSize, samples)
		if err != nil {
			return fmt.Errorf("candidate %s: %w", cand.Name, err)
		}
		perFold = max(perFold, b)
	}
	par, note, err := cvParallel(c.parallel, c.folds, cvCores(), perFold, cvMemory())
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(c.e.Stderr, note)
	}
	out := c.e.Stdout
	fmt.Fprintf(out, "%d samples from %d subjects; %d folds by subject (seed %d), %s, %d epochs max\n",
		len(samples), pipeline.CountSubjects(samples), c.folds, c.seed, hp.Architecture, hp.Epochs)
	res, err := model.CrossValidate(ctx, samples, model.CVOptions{
		Folds: c.folds, Seed: c.seed, ValidationFraction: hp.ValidationFraction, Parallel: par,
		Config: cfg, Train: hp.TrainOptions, Slices: c.slices, Candidates: cands, InnerFolds: c.inner,
		OnFold: func(f model.FoldResult) {
			if f.Chosen != "" {
				fmt.Fprintf(out, "fold %d: nested selection chose %s (inner RMSE %s)\n", f.Fold, f.Chosen, innerScores(cands, f.InnerRMSE))
			}
			best := fmt.Sprintf("best epoch %d of %d", f.BestEpoch, f.EpochsRun)
			if f.BestEpoch == 0 {
				best = fmt.Sprintf("no epoch of %d beat the untrained network (post = pre)", f.EpochsRun)
			} else if len(f.Shrink) > 0 {
				kept := 0
				for _, v := range f.Shrink {
					if v > 0 {
						kept++
					}
				}
				best += fmt.Sprintf(", learned change kept for %d of %d analytes", kept, len(f.Shrink))
			}
			fmt.Fprintf(out, "fold %d: %d train, %d validation, %d test samples (%d subjects); %s; model %.3f, post_equals_pre %.3f (%.1f s)\n",
				f.Fold, f.TrainSamples, f.ValidationSamples, f.TestSamples, f.TestSubjects, best,
				f.RMSE[model.MethodModel], f.RMSE[model.MethodPersistence], f.Seconds)
		},
	})
	if err != nil {
		return err
	}
	if err := writeCVOutputs(c.output, struct {
		Inputs          []string          `json:"inputs"`
		Hyperparameters map[string]string `json:"hyperparameters"`
		*model.CVResult
	}{c.inputs, plain, res}, res); err != nil {
		return err
	}
	writeCVTable(out, res)
	writeAnalyteTable(out, res)
	writeSliceTable(out, res)
	writeChosen(out, res, cands)
	fmt.Fprintf(out, "\n%s, %s written to %s (%.1f s)\n", cvJSONFile, cvChartFile, c.output, res.Seconds)
	return nil
}

// limitForArchitecture applies max_prescriptions as the trainer does (the seed network's
// block bounds its rows).
func limitForArchitecture(ds *pipeline.Dataset, hp trainer.Hyperparameters) ([]pipeline.Sample, error) {
	out, _, err := pipeline.LimitRows(ds.Samples, hp.RowLimit(ds.Layout), hp.OverflowPolicy)
	return out, err
}

// writeCVTable prints the summary as a Markdown table, the form the README shows.
func writeCVTable(w io.Writer, res *model.CVResult) {
	fmt.Fprintf(w, "\n%s; mean ± sd over %d folds; difference to post_equals_pre per fold, its mean and 95%% bootstrap interval (negative = better)\n\n", model.CVScorer, res.Folds)
	fmt.Fprintf(w, "| method | RMSE | vs post_equals_pre | 95%% interval | folds better | per fold |\n|---|---|---|---|---|---|\n")
	for _, m := range res.Methods {
		var per []string
		for _, f := range res.PerFold {
			per = append(per, fmt.Sprintf("%.3f", f.RMSE[m.Method]))
		}
		if m.Method == model.MethodPersistence {
			fmt.Fprintf(w, "| %s | %.3f ± %.3f | | | | %s |\n", m.Method, m.Mean, m.SD, strings.Join(per, " "))
			continue
		}
		fmt.Fprintf(w, "| %s | %.3f ± %.3f | %+.3f | [%+.3f, %+.3f] | %d of %d | %s |\n",
			m.Method, m.Mean, m.SD, m.DiffMean, m.DiffLow, m.DiffHigh, m.Better, res.Folds, strings.Join(per, " "))
	}
	var mod *model.MethodSummary
	for i := range res.Methods {
		if res.Methods[i].Method == model.MethodModel {
			mod = &res.Methods[i]
		}
	}
	for _, m := range res.Methods {
		if mod != nil && m.Method != model.MethodModel && mod.Mean > m.Mean {
			fmt.Fprintf(w, "\nThe model does not beat %s on mean RMSE (%.3f against %.3f).", m.Method, mod.Mean, m.Mean)
		}
	}
	fmt.Fprintln(w)
}
