package cli

import (
	"fmt"
	"runtime"

	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// maxCVParallel bounds --parallel: no more folds than --folds allows.
const maxCVParallel = 100

// cvParallel decides how many folds train at once: what was asked (0: one per
// core), at most the folds, the cores (more only add memory: the folds share
// them) and as many as fit in memory at perFold bytes each. note says what capped
// it; an error says one fold alone does not fit.
func cvParallel(asked, folds, cores int, perFold, limit int64) (par int, note string, err error) {
	par = asked
	if par == 0 {
		par = cores
	}
	par = min(par, folds)
	if par > cores {
		par, note = cores, fmt.Sprintf("--parallel %d: capped at %d, the CPU cores (more folds at once only add memory)", asked, cores)
	}
	if limit > 0 && perFold > 0 {
		fit := limit / perFold
		if fit < 1 {
			return 0, "", fmt.Errorf("one fold needs about %s to train (estimated), more than this machine's %s; lower encoder_units, lstm_units or batch_size", gibs(perFold), gibs(limit))
		}
		if int64(par) > fit {
			par, note = int(fit), fmt.Sprintf("--parallel: %d folds at once, as many as fit in %s at about %s each", fit, gibs(limit), gibs(perFold))
		}
	}
	return par, note, nil
}

func gibs(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// cvFoldBytes estimates one fold's memory: its network in training and its share
// of the samples (a scaled copy of each: its values and two features per prescription
// row; the embeddings themselves are shared rows, not copied).
func cvFoldBytes(cfg model.Config, batchSize int, samples []pipeline.Sample) (int64, error) {
	rows, values := 0, int64(0)
	for i := range samples {
		s := &samples[i]
		rows = max(rows, s.NumRx())
		values += int64(len(s.Pre)*3 + 2*s.NumRx())
	}
	net, err := model.EstimateTrainBytes(cfg, batchSize, rows)
	return net + 4*values, err
}

// cvCores and cvMemory are the machine's, replaceable in tests.
var (
	cvCores  = runtime.NumCPU
	cvMemory = trainer.MemoryLimit
)
