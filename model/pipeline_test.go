package model

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestPipelineSynthetic runs the path the trainer takes: pipeline's synthetic table
// (known drug effect + noise), ReadTables, a split by subject, a scaler fitted on the
// training split, then both architectures. The default one must beat both baselines on
// the held-out subjects; the seed must reject groups longer than its block until the
// overflow policy is applied.
func TestPipelineSynthetic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "synthetic.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.WriteSynthetic(f, pipeline.SynthOptions{Subjects: 120, Seed: 7, EmbeddingDim: 16, Drugs: 12}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ds, _, err := pipeline.ReadTables(context.Background(), []string{path}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	train, val, test := pipeline.SplitBySubject(ds.Samples, [3]float64{0.7, 0.15, 0.15}, 1)
	sc, err := pipeline.FitScaler(train, ds.Layout)
	if err != nil {
		t.Fatal(err)
	}
	a := len(ds.Layout.Analytes)
	mean := TrainMean(train, a)

	cfg := Config{LSTMUnits: 32, EncoderUnits: 32, DropoutRate: 0.1, Layout: ds.Layout}
	m, err := New(cfg, sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.Train(context.Background(), train, val, TrainOptions{Epochs: 40, BatchSize: 32, LearningRate: 0.005, Patience: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	mt, err := Evaluate(m, test, mean)
	if err != nil {
		t.Fatal(err)
	}
	tm, pe := mt.Baselines[BaselineTrainMean].RMSE, mt.Baselines[BaselinePostEqualsPre].RMSE
	t.Logf("%d/%d/%d samples, %d epochs (best %d): test RMSE %.3f, MAE %.3f; train_mean %.3f, post_equals_pre %.3f",
		len(train), len(val), len(test), len(h.Epochs), h.BestEpoch, mt.RMSE, mt.MAE, tm, pe)
	if mt.RMSE > 0.9*min(tm, pe) {
		t.Errorf("test RMSE %.3f is not clearly below the baselines (%.3f, %.3f)", mt.RMSE, tm, pe)
	}
	if len(mt.PerAnalyte) != a || mt.Observed == 0 {
		t.Errorf("metrics cover %d analytes and %d values", len(mt.PerAnalyte), mt.Observed)
	}

	cfg.Architecture = ArchSeed
	ms, err := New(cfg, sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	opt := TrainOptions{Epochs: 1, BatchSize: 32, LearningRate: 0.005, Seed: 1}
	if _, err := ms.Train(context.Background(), train, val, opt); err == nil || !strings.Contains(err.Error(), "overflow policy") {
		t.Fatalf("seed on groups longer than %d rows: %v", ds.Layout.BlockRows, err)
	}
	limit := func(s []pipeline.Sample) []pipeline.Sample {
		out, _, err := pipeline.LimitRows(s, ds.Layout.BlockRows, "truncate")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if _, err := ms.Train(context.Background(), limit(train), limit(val), opt); err != nil {
		t.Fatalf("seed after truncation: %v", err)
	}
}
