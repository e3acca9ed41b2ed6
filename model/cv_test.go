package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestRidgeLearnsTheEffect: on data whose change is a linear effect of the drugs, the
// ridge baseline predicts far better than post = pre, and its penalty comes from the grid.
func TestRidgeLearnsTheEffect(t *testing.T) {
	f := newFixture(t, defaultSynth(), 300, 0, 100)
	r, err := FitRidge(f.train, f.sc, f.spec.layout(), 1)
	if err != nil {
		t.Fatal(err)
	}
	mean := TrainMean(f.train, f.spec.analytes)
	_, ridge, _ := scoreBySubject(f.sc, f.tst, r.Predict(f.tst))
	_, persist, _ := scoreBySubject(f.sc, f.tst, persistence(f.tst, mean))
	if !(ridge < 0.8*persist) {
		t.Fatalf("ridge RMSE %.3f, post = pre %.3f: want ridge well below", ridge, persist)
	}
	found := false
	for _, p := range ridgePenalties {
		found = found || p == r.Penalty
	}
	if !found {
		t.Fatalf("penalty %v is not from the grid", r.Penalty)
	}
}

// TestCrossValidate: every fold scores all four methods on disjoint subjects, the summary
// agrees with the folds, the bootstrap interval holds the mean difference, and the same
// seed gives the same result whatever the parallelism.
func TestCrossValidate(t *testing.T) {
	sp := defaultSynth()
	samples := sp.generate(90, 3, 5)
	for i := range samples { // three samples per subject
		samples[i].Subject = "p" + string(rune('a'+i%30))
	}
	opt := CVOptions{Folds: 3, Seed: 7, ValidationFraction: 0.2, Parallel: 3,
		Config: Config{LSTMUnits: 8, EncoderUnits: 8, Layout: sp.layout()},
		Train:  TrainOptions{Epochs: 3, BatchSize: 16, LearningRate: 0.01}}
	res, err := CrossValidate(context.Background(), samples, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.PerFold) != 3 || res.Subjects != 30 || res.Samples != 90 {
		t.Fatalf("%d folds, %d subjects, %d samples", len(res.PerFold), res.Subjects, res.Samples)
	}
	tested := 0
	for _, f := range res.PerFold {
		tested += f.TestSamples
		if f.TrainSamples+f.ValidationSamples+f.TestSamples != 90 {
			t.Errorf("fold %d: %d+%d+%d samples, want 90", f.Fold, f.TrainSamples, f.ValidationSamples, f.TestSamples)
		}
		for _, m := range cvMethods {
			if v := f.RMSE[m]; !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("fold %d: %s RMSE %v", f.Fold, m, v)
			}
		}
	}
	if tested != 90 {
		t.Fatalf("folds test %d samples, want each of the 90 once", tested)
	}
	for _, m := range res.Methods {
		var sum float64
		for i, f := range res.PerFold {
			sum += f.RMSE[m.Method]
			if d := f.RMSE[m.Method] - f.RMSE[MethodPersistence]; math.Abs(d-m.DiffToPersistence[i]) > 1e-12 {
				t.Errorf("%s fold %d: difference %v, want %v", m.Method, i+1, m.DiffToPersistence[i], d)
			}
		}
		if math.Abs(sum/3-m.Mean) > 1e-12 {
			t.Errorf("%s: mean %v, want %v", m.Method, m.Mean, sum/3)
		}
		if m.Method != MethodPersistence && !(m.DiffLow <= m.DiffMean+1e-9 && m.DiffMean-1e-9 <= m.DiffHigh) {
			t.Errorf("%s: mean difference %v outside its interval [%v, %v]", m.Method, m.DiffMean, m.DiffLow, m.DiffHigh)
		}
	}
	opt.Parallel = 1
	again, err := CrossValidate(context.Background(), samples, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Methods {
		if a, b := res.Methods[i], again.Methods[i]; a.Mean != b.Mean || a.DiffLow != b.DiffLow {
			t.Fatalf("%s: %v [%v] in parallel, %v [%v] one at a time", a.Method, a.Mean, a.DiffLow, b.Mean, b.DiffLow)
		}
	}
	one := []pipeline.Sample{samples[0], samples[30], samples[60]} // all subject "pa"
	if _, err := CrossValidate(context.Background(), one, opt); err == nil {
		t.Fatal("3 folds of one subject: no error")
	}
}

// persistence predicts pre where observed and the training mean elsewhere.
func TestPersistence(t *testing.T) {
	s := []pipeline.Sample{{Pre: []float32{1, 2}, PreObserved: []bool{true, false}}}
	got := persistence(s, []float32{10, 20})
	if got[0][0] != 1 || got[0][1] != 20 {
		t.Fatalf("persistence %v, want [1 20]", got[0])
	}
}

// TestScorePredictionsMatchesEvaluate: the ridge baseline in metrics.json is scored like
// the model: ScorePredictions on the model's own predictions gives Evaluate's figures.
func TestScorePredictionsMatchesEvaluate(t *testing.T) {
	f := newFixture(t, defaultSynth(), 60, 0, 30)
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	mean := TrainMean(f.train, f.spec.analytes)
	met, err := Evaluate(m, f.tst, mean)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.Predict(f.tst)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ScorePredictions(f.sc, f.tst, pred)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.RMSE-met.RMSE) > 1e-6 || math.Abs(got.MAE-met.MAE) > 1e-6 {
		t.Fatalf("ScorePredictions %v/%v, Evaluate %v/%v", got.RMSE, got.MAE, met.RMSE, met.MAE)
	}
	p, _ := ScorePredictions(f.sc, f.tst, persistence(f.tst, mean))
	if b := met.Baselines[BaselinePostEqualsPre]; math.Abs(p.RMSE-b.RMSE) > 1e-6 {
		t.Fatalf("persistence %v, Evaluate's post_equals_pre %v", p.RMSE, b.RMSE)
	}
	if _, err := ScorePredictions(f.sc, f.tst, pred[:1]); err == nil {
		t.Fatal("1 prediction for 30 samples: no error")
	}
}

// TestUnseenAnalyteNotScored: an analyte with no training value has no standard unit; a
// test value of it (sodium 137, "137 standard units" at std 1) is left out of every
// score and counted, instead of swamping the RMSE.
func TestUnseenAnalyteNotScored(t *testing.T) {
	l := pipeline.Layout{Analytes: []string{"ph", "sodium"}, EmbeddingDim: 1, BlockRows: 2, BlockFeatures: 3}
	var train []pipeline.Sample
	for i := range 12 {
		train = append(train, pipeline.Sample{Subject: "a", Pre: []float32{7.3 + 0.01*float32(i%3), 0}, PreObserved: []bool{true, false},
			Post: []float32{7.35, 0}, PostObserved: []bool{true, false}, Embeddings: [][]float32{{0}}, Doses: []float32{1}, Units: []string{"mg"}})
	}
	sc, err := pipeline.FitScaler(train, l)
	if err != nil {
		t.Fatal(err)
	}
	test := []pipeline.Sample{{Subject: "b", Pre: []float32{7.3, 0}, PreObserved: []bool{true, false},
		Post: []float32{7.35, 137}, PostObserved: []bool{true, true}, Embeddings: [][]float32{{0}}, Doses: []float32{1}, Units: []string{"mg"}}}
	pred := persistence(test, TrainMean(train, 2))
	_, rmse, n := scoreBySubject(sc, test, pred)
	if n != 1 || rmse > 5 {
		t.Fatalf("scored %d cells, RMSE %v: want only ph scored", n, rmse)
	}
	got, err := ScorePredictions(sc, test, pred)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.RMSE-rmse) > 1e-9 {
		t.Fatalf("ScorePredictions %v, CV scorer %v", got.RMSE, rmse)
	}
	m, err := New(Config{LSTMUnits: 2, EncoderUnits: 2, Layout: l}, sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	met, err := Evaluate(m, test, TrainMean(train, 2))
	if err != nil {
		t.Fatal(err)
	}
	if met.Observed != 1 || met.Unscored != 1 {
		t.Fatalf("Evaluate scored %d and left out %d cells, want 1 and 1", met.Observed, met.Unscored)
	}
	// early stopping's validation loss leaves the unseen analyte out too, or its unscaled
	// error (137 at std 1) would choose the epoch
	vs, err := m.scaleAll(test, true)
	if err != nil {
		t.Fatal(err)
	}
	mse, _, _, err := m.scaledLoss(vs)
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Pow(met.RMSE, 2); math.Abs(mse-want) > 1e-6 {
		t.Fatalf("validation loss %v, want the scorer's %v (ph only)", mse, want)
	}
}

// TestCrossValidateReportsFailingFold: when one fold fails and cancels the others, the
// error is that fold's own, not the "training interrupted" of a fold it stopped.
func TestCrossValidateReportsFailingFold(t *testing.T) {
	sp := defaultSynth()
	samples := sp.generate(60, 3, 5)
	for i := range samples {
		samples[i].Subject = "p" + string(rune('a'+i%20))
	}
	const seed = 7
	which, err := pipeline.SubjectFolds(samples, 2, seed)
	if err != nil {
		t.Fatal(err)
	}
	// A malformed sample tested in fold 1 is in fold 2's training data: fold 2 fails at
	// once while fold 1 is still training.
	bad := -1
	for i := range samples {
		if which[samples[i].Subject] == 0 {
			bad = i
			break
		}
	}
	samples[bad].Pre = samples[bad].Pre[:1]
	opt := CVOptions{Folds: 2, Seed: seed, ValidationFraction: 0.2, Parallel: 2,
		Config: Config{LSTMUnits: 8, EncoderUnits: 8, Layout: sp.layout()},
		Train:  TrainOptions{Epochs: 5000, BatchSize: 16, LearningRate: 0.01}}
	_, err = CrossValidate(context.Background(), samples, opt)
	if err == nil || !strings.HasPrefix(err.Error(), "fold 2: ") || !strings.Contains(err.Error(), "pre and") {
		t.Fatalf("error %v, want fold 2's own error (its sample's pre values)", err)
	}
}
