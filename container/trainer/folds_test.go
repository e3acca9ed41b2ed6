package trainer

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// TestTrainOneFold: with folds=3 and fold=2 the test split is the second of the folds
// launcher cv makes from the same seed (pipeline.SubjectFolds), the other folds train and
// validate, and a test channel or a fold beyond folds is refused.
func TestTrainOneFold(t *testing.T) {
	root := copyFixture(t, "basic")
	var hp map[string]any
	data, _ := os.ReadFile(filepath.Join(root, hpPath))
	if err := json.Unmarshal(data, &hp); err != nil {
		t.Fatal(err)
	}
	plain := map[string]string{}
	for k, v := range hp {
		b, _ := json.Marshal(v)
		plain[k] = strings.Trim(string(b), `"`)
	}
	plain["lstm_units"] = "4"
	plain["folds"], plain["fold"] = "3", "2"
	setHyperparameters(t, root, plain)
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	trainFile := filepath.Join(root, "input", "data", "train", "synthetic.csv")
	all, _, err := pipeline.ReadTables(context.Background(), []string{trainFile}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	which, err := pipeline.SubjectFolds(all.Samples, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	wantSamples := 0
	for _, smp := range all.Samples {
		if which[smp.Subject] == 1 {
			want[smp.Subject] = true
			wantSamples++
		}
	}
	if s.Data.Test.Source != "fold 2 of 3" || s.Data.Test.Samples != wantSamples || s.Data.Test.Subjects != len(want) {
		t.Fatalf("test split %+v; want fold 2 of 3 with %d samples of %d subjects", s.Data.Test, wantSamples, len(want))
	}
	if s.Data.Train.Samples+s.Data.Validation.Samples+wantSamples != len(all.Samples) {
		t.Errorf("train %d + validation %d + test %d samples, want %d", s.Data.Train.Samples, s.Data.Validation.Samples, wantSamples, len(all.Samples))
	}

	// the job's fold is launcher cv's fold: same subjects, same fit, same scores
	var h Hyperparameters
	full, err := hparams.Parse(plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := hparams.Decode(full, &h); err != nil {
		t.Fatal(err)
	}
	cfg := h.Config
	cfg.Layout = all.Layout
	cv, err := model.CrossValidate(context.Background(), all.Samples, model.CVOptions{Folds: 3, Seed: h.Seed,
		ValidationFraction: h.ValidationFraction, Config: cfg, Train: h.TrainOptions})
	if err != nil {
		t.Fatal(err)
	}
	f2, ev := cv.PerFold[1], s.Evaluation["test"]
	for name, job := range map[string]float64{model.MethodModel: ev.RMSE, model.MethodRidge: ev.Baselines[model.BaselineRidge].RMSE,
		model.MethodPersistence: ev.Baselines[model.BaselinePostEqualsPre].RMSE} {
		if math.Abs(f2.RMSE[name]-job) > 1e-5 {
			t.Errorf("%s: the fold-2 job scores %.6f, launcher cv's fold 2 %.6f", name, job, f2.RMSE[name])
		}
	}

	plain["fold"] = "4"
	setHyperparameters(t, root, plain)
	if res := runTrain(t, context.Background(), root, nil); res.err == nil || !strings.Contains(res.err.Error(), "fold=4") {
		t.Errorf("fold 4 of 3: err %v", res.err)
	}
	plain["fold"] = "1"
	setHyperparameters(t, root, plain)
	data, _ = os.ReadFile(trainFile)
	if err := os.MkdirAll(filepath.Join(root, "input", "data", "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "input", "data", "test", "t.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "input", "config", "inputdataconfig.json"),
		[]byte(`{"train": {"TrainingInputMode": "File"}, "test": {"TrainingInputMode": "File"}}`), 0o644)
	if res := runTrain(t, context.Background(), root, nil); res.err == nil || !strings.Contains(res.err.Error(), "remove the test channel") {
		t.Errorf("folds with a test channel: err %v", res.err)
	}
}
