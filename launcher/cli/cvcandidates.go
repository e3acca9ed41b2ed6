package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// cvOwnSplits are the hyperparameters cv decides itself: its folds are the test splits.
var cvOwnSplits = []string{"folds", "fold", "test_fraction"}

// cvCandidates turns each --candidate KEY=VALUE,... into the network settings it means
// on top of the --hp values base. A candidate may change how the network is built and
// trained, not the samples (those are read once for every candidate).
func cvCandidates(raw []string, base map[string]string, l pipeline.Layout) ([]model.Candidate, error) {
	var out []model.Candidate
	for _, r := range raw {
		values := maps.Clone(base)
		var names []string
		for _, kv := range strings.Split(r, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			spec, known := hparams.Lookup(k)
			switch {
			case !ok || k == "":
				return nil, usagef("--candidate %q: expected KEY=VALUE items separated by commas", r)
			case !known:
				return nil, usagef("--candidate %q: unknown hyperparameter %q", r, k)
			case spec.Data || k == "seed" || slices.Contains(cvOwnSplits, k):
				return nil, usagef("--candidate %q: %s is the same for every candidate; set it with --hp", r, k)
			}
			plain, err := spec.Check(v)
			if err != nil {
				return nil, usagef("--candidate %q: %v", r, err)
			}
			values[k] = plain
			names = append(names, k+"="+plain)
		}
		_, hp, err := trainer.ParseHyperparameters(values)
		if err != nil {
			return nil, usagef("--candidate %q: %v", r, err)
		}
		cfg := hp.Config
		cfg.Layout = l
		out = append(out, model.Candidate{Name: strings.Join(names, ","), Config: cfg, Train: hp.TrainOptions})
	}
	return out, nil
}

// innerScores lists each candidate's inner RMSE in the order given.
func innerScores(cands []model.Candidate, rmse map[string]float64) string {
	var parts []string
	for _, c := range cands {
		parts = append(parts, fmt.Sprintf("%s %.4f", c.Name, rmse[c.Name]))
	}
	return strings.Join(parts, "; ")
}

// writeChosen prints how often nested selection chose each candidate.
func writeChosen(w io.Writer, res *model.CVResult, cands []model.Candidate) {
	if len(cands) == 0 {
		return
	}
	fmt.Fprintf(w, "\nNested selection (inner folds on each fold's training subjects only): the model rows above are the chosen settings' scores.\n\n| candidate | folds chosen |\n|---|---:|\n")
	for _, c := range cands {
		fmt.Fprintf(w, "| %s | %d of %d |\n", c.Name, res.Chosen[c.Name], res.Folds)
	}
}
