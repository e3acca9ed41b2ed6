package model

import (
	"context"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestNestedSelection: each fold trains the candidate its inner folds score best (here the
// one that learns against one that barely moves), reports every candidate's inner RMSE,
// and the inner scores depend on the fold's training subjects only: spoiling the test
// subjects' targets leaves them as they were.
func TestNestedSelection(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	sp := defaultSynth()
	samples := sp.generate(120, 3, 5)
	for i := range samples { // three samples per subject
		samples[i].Subject = "p" + string(rune('a'+i%40))
	}
	cfg := Config{LSTMUnits: 8, EncoderUnits: 8, Layout: sp.layout()}
	good := Candidate{Name: "good", Config: cfg, Train: TrainOptions{Epochs: 8, BatchSize: 16, LearningRate: 0.02}}
	idle := Candidate{Name: "idle", Config: cfg, Train: TrainOptions{Epochs: 1, BatchSize: 16, LearningRate: 1e-6}}
	opt := CVOptions{Folds: 3, Seed: 7, ValidationFraction: 0.2, Parallel: 3,
		Candidates: []Candidate{idle, good}, InnerFolds: 2}
	res, err := CrossValidate(context.Background(), samples, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Chosen["good"] != 3 {
		t.Fatalf("chosen %v, want good in all 3 folds", res.Chosen)
	}
	for _, f := range res.PerFold {
		if f.Chosen != "good" || len(f.InnerRMSE) != 2 || !(f.InnerRMSE["good"] < f.InnerRMSE["idle"]) {
			t.Errorf("fold %d: chose %q, inner %v", f.Fold, f.Chosen, f.InnerRMSE)
		}
	}

	// spoil fold 1's test subjects: its inner scores must not move
	which, err := pipeline.SubjectFolds(samples, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	spoiled := make([]pipeline.Sample, len(samples))
	copy(spoiled, samples)
	for i := range spoiled {
		if which[spoiled[i].Subject] == 0 {
			post := make([]float32, len(spoiled[i].Post))
			for j := range post {
				post[j] = 1e3
			}
			spoiled[i].Post = post
		}
	}
	opt.Parallel = 1
	again, err := CrossValidate(context.Background(), spoiled, opt)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range res.PerFold[0].InnerRMSE {
		if again.PerFold[0].InnerRMSE[name] != v {
			t.Errorf("fold 1's inner RMSE of %s moved from %v to %v when its test targets changed", name, v, again.PerFold[0].InnerRMSE[name])
		}
	}
	if again.PerFold[0].RMSE[MethodModel] == res.PerFold[0].RMSE[MethodModel] {
		t.Error("spoiling the test targets did not change fold 1's test score: the check above proves nothing")
	}

	for _, bad := range []CVOptions{
		{Candidates: []Candidate{good}, InnerFolds: 1},
		{Candidates: []Candidate{good, good}, InnerFolds: 2},
		{Candidates: []Candidate{{Name: "x", Config: Config{Layout: sp.layout()}, Train: good.Train}}, InnerFolds: 2},
	} {
		bad.Folds, bad.Seed, bad.ValidationFraction = 3, 7, 0.2
		if _, err := CrossValidate(context.Background(), samples, bad); err == nil || !strings.Contains(err.Error(), "cross-validation") {
			t.Errorf("%d candidates, %d inner folds: error %v", len(bad.Candidates), bad.InnerFolds, err)
		}
	}
}
