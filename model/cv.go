package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/blueblood/blueblood/pipeline"
)

// Method names in a cross-validation: the network and the three baselines.
const (
	MethodModel       = "model"
	MethodPersistence = BaselinePostEqualsPre
	MethodTrainMean   = BaselineTrainMean
	MethodRidge       = BaselineRidge
)

// cvMethods is the order methods are reported in.
var cvMethods = []string{MethodModel, MethodRidge, MethodPersistence, MethodTrainMean}

// CVOptions configures CrossValidate.
type CVOptions struct {
	Folds int
	Seed  int64 // folds, inner splits, weights, shuffling and the bootstrap
	// ValidationFraction is the share of each fold's training samples (by subject)
	// held out for early stopping.
	ValidationFraction float64
	// Parallel is how many folds train at once; 0 means runtime.NumCPU().
	Parallel int
	Config   Config // the network; its Layout is the data's
	Train    TrainOptions
	// Slices are scored on every fold's test cases beside the whole (SliceSummary).
	Slices []Slice
	// Candidates, when given, are the settings nested selection chooses from for each
	// fold: each is scored by an inner cross-validation of InnerFolds folds on the fold's
	// training subjects only, and the fold trains the best (Config and Train are unused).
	Candidates []Candidate
	InnerFolds int
	// OnFold is called (from one goroutine at a time) as each fold finishes.
	OnFold func(FoldResult)
}

// FoldResult is one fold: who was where and every method's score on its test subjects.
type FoldResult struct {
	Fold              int                `json:"fold"` // 1-based
	TrainSamples      int                `json:"train_samples"`
	ValidationSamples int                `json:"validation_samples"`
	TestSamples       int                `json:"test_samples"`
	TestSubjects      int                `json:"test_subjects"`
	Targets           int                `json:"targets"`            // observed test cells scored
	Unscored          int                `json:"unscored,omitempty"` // test cells of analytes without training values
	RMSE              map[string]float64 `json:"rmse"`
	BestEpoch         int                `json:"best_epoch"` // 0: the untrained network (post = pre) won
	EpochsRun         int                `json:"epochs_run"`
	Shrink            []float64          `json:"shrink,omitempty"` // per analyte, see History.Shrink
	RidgePenalty      float64            `json:"ridge_penalty"`
	ThinAnalytes      []string           `json:"thin_analytes,omitempty"`
	Seconds           float64            `json:"seconds"`
	Slices            []SliceResult      `json:"slices,omitempty"`
	// Chosen names the candidate nested selection trained, InnerRMSE each candidate's
	// mean RMSE over the inner folds (empty without candidates).
	Chosen    string             `json:"chosen,omitempty"`
	InnerRMSE map[string]float64 `json:"inner_rmse,omitempty"`

	bySubject map[string][]subjectSE // method -> per test subject
	analytes  analyteErrors
}

// subjectSE is one test subject's squared error and cell count for one method.
type subjectSE struct {
	se float64
	n  int
}

// MethodSummary is one method over all folds.
type MethodSummary struct {
	Method string  `json:"method"`
	Mean   float64 `json:"mean_rmse"`
	SD     float64 `json:"sd_rmse"` // over folds (n-1)
	// Against persistence (post = pre): the per-fold differences in RMSE (negative is
	// better), their mean, a 95% bootstrap interval of that mean (test subjects resampled
	// within each fold) and the folds where the method scored lower.
	DiffToPersistence []float64 `json:"diff_to_persistence"`
	DiffMean          float64   `json:"diff_mean"`
	DiffLow           float64   `json:"diff_ci_low"`
	DiffHigh          float64   `json:"diff_ci_high"`
	Better            int       `json:"folds_better"`
}

// CVResult is a whole cross-validation.
type CVResult struct {
	Folds    int             `json:"folds"`
	Seed     int64           `json:"seed"`
	Samples  int             `json:"samples"`
	Subjects int             `json:"subjects"`
	Scorer   string          `json:"scorer"`
	Methods  []MethodSummary `json:"methods"`
	// PerAnalyte and Slices pool the folds' test cells per analyte and per slice.
	PerAnalyte []AnalyteSummary `json:"per_analyte"`
	Slices     []SliceSummary   `json:"slices,omitempty"`
	PerFold    []FoldResult     `json:"per_fold"`
	// Chosen counts, per candidate, the folds nested selection trained it in.
	Chosen  map[string]int `json:"chosen,omitempty"`
	Seconds float64        `json:"seconds"`
}

// CVScorer describes the one score every method gets.
const CVScorer = "RMSE over observed post values in per-analyte standard units (each fold's training scaler)"

// CrossValidate runs k-fold cross-validation grouped by subject: for each fold, the other
// folds are split by subject into training and an inner validation split for early
// stopping; the scaler, the training mean, the ridge baseline and the network are fitted
// on the training part, and all methods are scored on the fold's subjects with one scorer.
// Folds run in parallel.
func CrossValidate(ctx context.Context, samples []pipeline.Sample, opt CVOptions) (*CVResult, error) {
	started := time.Now()
	if opt.ValidationFraction <= 0 || opt.ValidationFraction >= 1 {
		return nil, fmt.Errorf("cross-validation: validation fraction %v: expected a number in (0, 1)", opt.ValidationFraction)
	}
	which, err := pipeline.SubjectFolds(samples, opt.Folds, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("cross-validation: %w", err)
	}
	if err := checkCandidates(&opt); err != nil {
		return nil, fmt.Errorf("cross-validation: %w", err)
	}
	opt.Slices = slices.Clone(opt.Slices)
	sliceIdx, err := checkSlices(opt.Slices, opt.Config.Layout)
	if err != nil {
		return nil, fmt.Errorf("cross-validation: %w", err)
	}
	par := opt.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]FoldResult, opt.Folds)
	errs := make([]error, opt.Folds)
	var mu sync.Mutex
	var firstFailure error // the fold that failed first (in time) and cancelled the others
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for f := 0; f < opt.Folds; f++ {
		train, test := pipeline.HoldOutFold(samples, which, f)
		wg.Add(1)
		go func(f int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[f] = ctx.Err()
				return
			}
			r, err := func() (r *FoldResult, err error) {
				defer Recover(&err)
				return runFold(ctx, f, train, test, opt, sliceIdx)
			}()
			if err != nil {
				errs[f] = fmt.Errorf("fold %d: %w", f+1, err)
				mu.Lock()
				// a fold interrupted by another's failure (or by the caller) is not the cause
				if firstFailure == nil && !errors.Is(err, ErrInterrupted) && !errors.Is(err, context.Canceled) {
					firstFailure = errs[f]
				}
				mu.Unlock()
				cancel()
				return
			}
			results[f] = *r
			if opt.OnFold != nil {
				mu.Lock()
				opt.OnFold(*r)
				mu.Unlock()
			}
		}(f)
	}
	wg.Wait()
	if firstFailure != nil {
		return nil, firstFailure
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res := &CVResult{Folds: opt.Folds, Seed: opt.Seed, Samples: len(samples), Subjects: len(which),
		Scorer: CVScorer, PerFold: results}
	res.Methods = summarise(results, opt.Seed)
	res.PerAnalyte = summariseAnalytes(results, opt.Config.Layout.Analytes)
	res.Slices = summariseSlices(results)
	for _, f := range results {
		if f.Chosen != "" {
			if res.Chosen == nil {
				res.Chosen = map[string]int{}
			}
			res.Chosen[f.Chosen]++
		}
	}
	res.Seconds = time.Since(started).Seconds()
	return res, nil
}

// runFold fits and scores every method on one fold the way the trainer runs it with the
// hyperparameters folds and fold: the same seed everywhere, the validation split taken from
// the other folds by subject, and the scaler, training mean and ridge fitted on the rest.
func runFold(ctx context.Context, f int, outer, test []pipeline.Sample, opt CVOptions, sliceIdx []int) (*FoldResult, error) {
	started := time.Now()
	l := opt.Config.Layout
	seed := opt.Seed
	chosen, inner, err := selectCandidate(ctx, outer, opt)
	if err != nil {
		return nil, err
	}
	if chosen != nil {
		opt.Config, opt.Train = chosen.Config, chosen.Train
	}
	m, train, val, hist, err := fitOnSubjects(ctx, outer, opt)
	if err != nil {
		return nil, err
	}
	sc := m.sc
	ridge, err := FitRidge(train, sc, l, seed)
	if err != nil {
		return nil, err
	}
	mean := TrainMean(train, len(l.Analytes))
	modelPred, err := m.Predict(test)
	if err != nil {
		return nil, err
	}
	preds := map[string][][]float32{
		MethodModel:       modelPred,
		MethodRidge:       ridge.Predict(test),
		MethodPersistence: persistence(test, mean),
		MethodTrainMean:   constantPredictions(len(test), mean),
	}
	r := &FoldResult{Fold: f + 1, TrainSamples: len(train), ValidationSamples: len(val), TestSamples: len(test),
		TestSubjects: pipeline.CountSubjects(test), RMSE: map[string]float64{}, BestEpoch: hist.BestEpoch,
		EpochsRun: len(hist.Epochs), Shrink: hist.Shrink, RidgePenalty: ridge.Penalty, ThinAnalytes: sc.Thin,
		bySubject: map[string][]subjectSE{}, InnerRMSE: inner}
	if chosen != nil {
		r.Chosen = chosen.Name
	}
	for _, name := range cvMethods {
		per, rmse, n := scoreBySubject(sc, test, preds[name])
		r.bySubject[name], r.RMSE[name], r.Targets = per, rmse, n
	}
	r.analytes = scoreAnalytes(sc, test, preds)
	if r.Slices, err = scoreSlices(m, test, preds, opt.Slices, sliceIdx); err != nil {
		return nil, err
	}
	for i := range test {
		for j, ok := range test[i].PostObserved {
			if ok && !scorable(sc, j) {
				r.Unscored++
			}
		}
	}
	r.Seconds = time.Since(started).Seconds()
	return r, nil
}

// fitOnSubjects trains opt's network on the samples of some subjects the way the trainer
// does: a validation split by subject for early stopping (ValidationFraction, seed
// opt.Seed), the scaler fitted on the rest.
func fitOnSubjects(ctx context.Context, samples []pipeline.Sample, opt CVOptions) (*Model, []pipeline.Sample, []pipeline.Sample, *History, error) {
	train, val, _ := pipeline.SplitBySubject(samples, [3]float64{1 - opt.ValidationFraction, opt.ValidationFraction, 0}, opt.Seed)
	if len(val) == 0 || len(train) == 0 {
		return nil, nil, nil, nil, fmt.Errorf("%d training subjects cannot make an inner validation split", pipeline.CountSubjects(samples))
	}
	sc, err := FitScaler(opt.Config, train)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m, err := New(DrugVocabulary(opt.Config, train), sc, opt.Seed)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	topt := opt.Train
	topt.Seed = opt.Seed
	topt.OnEpoch, topt.OnCheckpoint, topt.Resume = nil, nil, nil
	hist, err := m.Train(ctx, train, val, topt)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return m, train, val, hist, nil
}

// scoreBySubject is the one scorer: squared errors in standard units over observed post
// values of analytes with training values, summed per subject (in sorted subject order),
// and the overall RMSE.
func scoreBySubject(sc *pipeline.Scaler, samples []pipeline.Sample, pred [][]float32) ([]subjectSE, float64, int) {
	acc := map[string]*subjectSE{}
	var se float64
	n := 0
	for i := range samples {
		s := &samples[i]
		a := acc[s.Subject]
		if a == nil {
			a = &subjectSE{}
			acc[s.Subject] = a
		}
		for j, ok := range s.PostObserved {
			if !ok || !scorable(sc, j) {
				continue
			}
			d := float64(sc.ScaleAnalyte(j, pred[i][j]) - sc.ScaleAnalyte(j, s.Post[j]))
			a.se += d * d
			a.n++
			se += d * d
			n++
		}
	}
	names := make([]string, 0, len(acc))
	for k := range acc {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]subjectSE, len(names))
	for i, k := range names {
		out[i] = *acc[k]
	}
	return out, math.Sqrt(se / float64(max(n, 1))), n
}
