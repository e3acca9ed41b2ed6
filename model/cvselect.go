package model

import (
	"context"
	"fmt"

	"github.com/blueblood/blueblood/pipeline"
)

// Candidate is one setting nested selection may choose for a fold.
type Candidate struct {
	Name   string // how reports name it, e.g. "linear_base=ridge,learned_drugs=64"
	Config Config // its Layout is the data's
	Train  TrainOptions
}

// maxInnerFolds bounds the inner cross-validation (each inner fold trains every candidate).
const maxInnerFolds = 20

// checkCandidates validates the network settings CrossValidate will train: the one in
// opt.Config, or each candidate and the inner folds that choose among them.
func checkCandidates(opt *CVOptions) error {
	if len(opt.Candidates) == 0 {
		return opt.Config.withDefaults().Validate()
	}
	if opt.InnerFolds < 2 || opt.InnerFolds > maxInnerFolds {
		return fmt.Errorf("%d inner folds: expected an integer in [2, %d]", opt.InnerFolds, maxInnerFolds)
	}
	seen := map[string]bool{}
	for i, c := range opt.Candidates {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("candidate %d: name %q: expected a distinct, non-empty name", i+1, c.Name)
		}
		seen[c.Name] = true
		if err := c.Config.withDefaults().Validate(); err != nil {
			return fmt.Errorf("candidate %s: %w", c.Name, err)
		}
		if err := c.Train.validate(1); err != nil {
			return fmt.Errorf("candidate %s: %w", c.Name, err)
		}
	}
	opt.Config = opt.Candidates[0].Config // the layout the slices and per-analyte tables use
	return nil
}

// selectCandidate runs the nested selection for one outer fold: every candidate is
// trained and scored on InnerFolds folds of outer's subjects (the outer fold's test
// subjects are never seen), and the one with the lowest mean RMSE wins (the first listed
// on a tie). It returns nil without candidates.
func selectCandidate(ctx context.Context, outer []pipeline.Sample, opt CVOptions) (*Candidate, map[string]float64, error) {
	if len(opt.Candidates) == 0 {
		return nil, nil, nil
	}
	which, err := pipeline.SubjectFolds(outer, opt.InnerFolds, opt.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("inner folds: %w", err)
	}
	rmse := map[string]float64{}
	best := -1
	for ci, c := range opt.Candidates {
		inner := opt
		inner.Config, inner.Train = c.Config, c.Train
		sum := 0.0
		for k := 0; k < opt.InnerFolds; k++ {
			train, test := pipeline.HoldOutFold(outer, which, k)
			m, _, _, _, err := fitOnSubjects(ctx, train, inner)
			if err != nil {
				return nil, nil, fmt.Errorf("candidate %s, inner fold %d: %w", c.Name, k+1, err)
			}
			pred, err := m.Predict(test)
			if err != nil {
				return nil, nil, fmt.Errorf("candidate %s, inner fold %d: %w", c.Name, k+1, err)
			}
			_, r, n := scoreBySubject(m.sc, test, pred)
			if n == 0 {
				return nil, nil, fmt.Errorf("candidate %s, inner fold %d: no observed post values to score", c.Name, k+1)
			}
			sum += r
		}
		rmse[c.Name] = sum / float64(opt.InnerFolds)
		if best < 0 || rmse[c.Name] < rmse[opt.Candidates[best].Name] {
			best = ci
		}
	}
	return &opt.Candidates[best], rmse, nil
}
