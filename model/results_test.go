package model

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestResultsTable produces the README's results table; it is slow and skipped unless
// BLUEBLOOD_RESULTS=1. It trains both architectures and the two ablations of issue 6
// (pooled without the residual head, seed with it) (40 epochs, 64 units, learning rate
// 0.001, batch 32, patience 10) on pipeline's default synthetic table and, when
// BLUEBLOOD_REAL_DATA names a final-format CSV (the original project's
// blue-blood-final.csv), on that too, each split 70/15/15 by subject, and logs test
// RMSE/MAE (scaled, observed values only) beside the baselines.
//
//	BLUEBLOOD_RESULTS=1 BLUEBLOOD_REAL_DATA=/path/blue-blood-final.csv go test ./model -run ResultsTable -v -timeout 30m
func TestResultsTable(t *testing.T) {
	if os.Getenv("BLUEBLOOD_RESULTS") == "" {
		t.Skip("set BLUEBLOOD_RESULTS=1 to train the results table")
	}
	inputs := map[string]string{}
	path := filepath.Join(t.TempDir(), "synthetic.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.WriteSynthetic(f, pipeline.SynthOptions{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	inputs["synthetic (default generator, seed 1)"] = path
	if real := os.Getenv("BLUEBLOOD_REAL_DATA"); real != "" {
		inputs["real: "+filepath.Base(real)] = real
	}
	var rows []string
	for name, in := range inputs {
		ds, _, err := pipeline.ReadTables(context.Background(), []string{in}, pipeline.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		train, val, test := pipeline.SplitBySubject(ds.Samples, [3]float64{0.7, 0.15, 0.15}, 1)
		sc, err := pipeline.FitScaler(train, ds.Layout)
		if err != nil {
			t.Fatal(err)
		}
		mean := TrainMean(train, len(ds.Layout.Analytes))
		for _, v := range []struct {
			arch     string
			ablation bool
			label    string
		}{
			{ArchPooledResidual, false, "pooled-residual"},
			{ArchPooledResidual, true, "pooled, no residual head"},
			{ArchSeed, false, "seed"},
			{ArchSeed, true, "seed + residual head"},
		} {
			arch := v.arch
			tr, va, te := train, val, test
			if arch == ArchSeed {
				lim := func(s []pipeline.Sample) []pipeline.Sample {
					out, _, err := pipeline.LimitRows(s, ds.Layout.BlockRows, "truncate")
					if err != nil {
						t.Fatal(err)
					}
					return out
				}
				tr, va, te = lim(train), lim(val), lim(test)
			}
			m, err := New(Config{Architecture: arch, LSTMUnits: 64, EncoderUnits: 64, DropoutRate: 0.2, Layout: ds.Layout, ablation: v.ablation}, sc, 42)
			if err != nil {
				t.Fatal(err)
			}
			h, err := m.Train(context.Background(), tr, va, defaultTrainOptions(42))
			if err != nil {
				t.Fatal(err)
			}
			mt, err := Evaluate(m, te, mean)
			if err != nil {
				t.Fatal(err)
			}
			b1, b2 := mt.Baselines[BaselineTrainMean], mt.Baselines[BaselinePostEqualsPre]
			rows = append(rows, fmt.Sprintf("| %s | %d/%d/%d | %s | %d (best %d) | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f |",
				name, len(tr), len(va), len(te), v.label, len(h.Epochs), h.BestEpoch, mt.RMSE, mt.MAE, b1.RMSE, b1.MAE, b2.RMSE, b2.MAE))
		}
	}
	t.Log("\n| data | train/val/test samples | architecture | epochs | model RMSE / MAE | train_mean | post_equals_pre |\n|---|---|---|---|---|---|---|\n" + strings.Join(rows, "\n"))
}
