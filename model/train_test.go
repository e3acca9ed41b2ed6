package model

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func trainOpts(epochs int) TrainOptions {
	return TrainOptions{Epochs: epochs, BatchSize: 16, LearningRate: 0.01, Seed: 3}
}

func mustNew(t testing.TB, cfg Config, f *fixture, seed int64) *Model {
	t.Helper()
	m, err := New(cfg, f.sc, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLearnsDrugEffect trains on data with a known drug effect and checks that held-out
// RMSE is far below both baselines and close to the noise floor. A model whose encoder
// ignored prescriptions could at best learn the mean shift and would sit near the
// post_equals_pre baseline; one scored with dropout on, or trained on a wrong mask,
// misses the noise-floor bound.
func TestLearnsDrugEffect(t *testing.T) {
	sp := defaultSynth()
	f := newFixture(t, sp, 800, 150, 200)
	cases := []struct {
		arch string
		// required: model RMSE <= ratio * best baseline RMSE
		ratio float64
		// and model RMSE <= floorFactor * noise floor (scaled units)
		floorFactor float64
	}{
		{ArchPooledResidual, 0.5, 1.25},
		{ArchSeed, 0.85, 2.5},
	}
	for _, c := range cases {
		t.Run(c.arch, func(t *testing.T) {
			cfg := f.config(c.arch)
			cfg.EncoderUnits, cfg.LSTMUnits = 32, 32
			m := mustNew(t, cfg, f, 1)
			opt := trainOpts(150)
			opt.BatchSize = 32
			opt.LearningRate = 0.005
			opt.Patience = 20
			h, err := m.Train(context.Background(), f.train, f.val, opt)
			if err != nil {
				t.Fatal(err)
			}
			mt, err := Evaluate(m, f.tst, TrainMean(f.train, sp.analytes))
			if err != nil {
				t.Fatal(err)
			}
			// the best possible predictor still sees the noise (noiseSD analyte standard
			// deviations) and, where pre is missing, the whole pre-value variance; the scaler's
			// std pools pre and post values, so convert through it
			var floor float64
			for j := 0; j < sp.analytes; j++ {
				sd := float64(j + 1)
				v := math.Pow(sp.noiseSD*sd, 2) + (1-sp.pObserved)*sd*sd
				floor += v / (f.sc.Std[j] * f.sc.Std[j])
			}
			floor = math.Sqrt(floor / float64(sp.analytes))
			mean := mt.Baselines[BaselineTrainMean].RMSE
			pers := mt.Baselines[BaselinePostEqualsPre].RMSE
			t.Logf("%s: %d epochs (%s, best %d), test RMSE %.3f, train_mean %.3f, post_equals_pre %.3f, noise floor %.3f",
				c.arch, len(h.Epochs), h.Stopped, h.BestEpoch, mt.RMSE, mean, pers, floor)
			if best := math.Min(mean, pers); mt.RMSE > c.ratio*best {
				t.Errorf("test RMSE %.3f is not below %.2f x the best baseline (%.3f)", mt.RMSE, c.ratio, best)
			}
			if mt.RMSE > c.floorFactor*floor {
				t.Errorf("test RMSE %.3f is more than %.1f x the noise floor %.3f", mt.RMSE, c.floorFactor, floor)
			}
		})
	}
}

// TestDeterministic: same data, options and seeds give bit-identical weights; another
// training seed does not.
func TestDeterministic(t *testing.T) {
	f := newFixture(t, defaultSynth(), 120, 30, 0)
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		t.Run(arch, func(t *testing.T) {
			run := func(seed int64) []float32 {
				m := mustNew(t, f.config(arch), f, 1)
				opt := trainOpts(3)
				opt.Seed = seed
				if _, err := m.Train(context.Background(), f.train, f.val, opt); err != nil {
					t.Fatal(err)
				}
				return m.params
			}
			a, b, c := run(3), run(3), run(4)
			if !slices.Equal(a, b) {
				t.Error("two runs with the same seed differ")
			}
			if slices.Equal(a, c) {
				t.Error("runs with different seeds are identical: the seed does not reach shuffling or dropout")
			}
		})
	}
}

// TestEarlyStoppingRestoresBest overfits a tiny training set so validation loss turns
// up; the run must stop after patience epochs and hold the best epoch's weights.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	f := newFixture(t, defaultSynth(), 24, 60, 0)
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	opt := trainOpts(200)
	opt.LearningRate = 0.03
	opt.Patience = 3
	h, err := m.Train(context.Background(), f.train, f.val, opt)
	if err != nil {
		t.Fatal(err)
	}
	if h.Stopped != StopEarly {
		t.Fatalf("stopped %q after %d epochs, expected %q", h.Stopped, len(h.Epochs), StopEarly)
	}
	if len(h.Epochs) != h.BestEpoch+opt.Patience {
		t.Errorf("%d epochs with best epoch %d and patience %d", len(h.Epochs), h.BestEpoch, opt.Patience)
	}
	best := h.Epochs[h.BestEpoch-1]
	if !best.Best || best.ValLoss != slices.MinFunc(h.Epochs, func(a, b EpochStats) int { return cmpF(a.ValLoss, b.ValLoss) }).ValLoss {
		t.Errorf("best epoch %d is not the minimum of validation loss", h.BestEpoch)
	}
	vs, err := m.scaleAll(f.val, true)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := m.scaledLoss(vs)
	if err != nil {
		t.Fatal(err)
	}
	// the best weights come back with each analyte's change shrunk on validation
	// (shrinkToBaseline), which can only lower the validation loss
	if got > best.ValLoss*(1+1e-6) || h.Shrink == nil {
		t.Errorf("after training, validation loss is %v (shrink %v); the best epoch had %v: best weights not restored", got, h.Shrink, best.ValLoss)
	}
	last := h.Epochs[len(h.Epochs)-1].ValLoss
	if last == best.ValLoss {
		t.Error("last epoch equals the best one: the test does not exercise restoring")
	}
}

// TestPatienceOnTheLastEpochIsCompleted: a run whose patience runs out on its last
// epoch went all the way, so it is "completed", not "early-stopped after E of E".
func TestPatienceOnTheLastEpochIsCompleted(t *testing.T) {
	f := newFixture(t, defaultSynth(), 24, 60, 0)
	opt := trainOpts(200)
	opt.LearningRate = 0.03
	opt.Patience = 3
	h, err := mustNew(t, f.config(ArchPooledResidual), f, 1).Train(context.Background(), f.train, f.val, opt)
	if err != nil {
		t.Fatal(err)
	}
	if h.Stopped != StopEarly {
		t.Fatalf("stopped %q after %d epochs; the fixture must stop early", h.Stopped, len(h.Epochs))
	}
	opt.Epochs = len(h.Epochs) // patience now runs out on the last epoch
	h2, err := mustNew(t, f.config(ArchPooledResidual), f, 1).Train(context.Background(), f.train, f.val, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(h2.Epochs) != opt.Epochs || h2.Stopped != StopCompleted {
		t.Errorf("%d of %d epochs ran, stopped %q; want all of them and %q", len(h2.Epochs), opt.Epochs, h2.Stopped, StopCompleted)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestResumeIsBitIdentical interrupts runs at several points, saves and reloads the
// checkpoint, resumes in a fresh model and compares with an uninterrupted run.
func TestResumeIsBitIdentical(t *testing.T) {
	f := newFixture(t, defaultSynth(), 100, 30, 0) // 7 batches of 16 per epoch
	cases := []struct {
		name                   string
		cancelEpoch, cancelBat int // cancel after this optimiser step
		wantEpoch, wantBatch   int // checkpoint position: completed epochs, next batch
		wantPerm               bool
	}{
		{"mid-epoch", 3, 2, 2, 2, true},
		// after the last step of epoch 2 the next epoch's order is drawn before the
		// stop is noticed: the checkpoint must carry it
		{"epoch boundary", 2, 7, 2, 0, true},
	}
	for _, run := range []struct {
		arch, name string
		decay      float64
		linear     string
	}{{ArchPooledResidual, ArchPooledResidual, 0, ""}, {ArchSeed, ArchSeed, 0, ""}, {ArchPooledResidual, "pooled-residual+weight-decay", 0.01, ""},
		{ArchPooledResidual, "pooled-residual+linear-base", 0, LinearRidge}} {
		arch := run.arch
		config := func() Config {
			c := f.config(arch)
			c.LinearBase = run.linear // fitted at the start; a resumed run restores it
			return c
		}
		opt := trainOpts(4)
		opt.WeightDecay = run.decay
		ref := mustNew(t, config(), f, 1)
		refH, err := ref.Train(context.Background(), f.train, f.val, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			t.Run(run.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				path := filepath.Join(t.TempDir(), "ckpt.gob")
				var atEpoch2 *Checkpoint
				iopt := opt
				iopt.CheckpointEvery = 1
				iopt.afterBatch = func(epoch, batch int) {
					if epoch == c.cancelEpoch && batch == c.cancelBat {
						cancel()
					}
				}
				iopt.OnCheckpoint = func(ck *Checkpoint) error {
					if ck.Epoch == 2 && ck.Batch == 0 && atEpoch2 == nil {
						atEpoch2 = ck
					}
					return ck.Save(path)
				}
				m1 := mustNew(t, config(), f, 1)
				h1, err := m1.Train(ctx, f.train, f.val, iopt)
				if !errors.Is(err, ErrInterrupted) {
					t.Fatalf("interrupted run returned %v, expected ErrInterrupted", err)
				}
				if h1.Stopped != StopInterrupted || len(h1.Epochs) != c.wantEpoch {
					t.Fatalf("interrupted run: stopped %q after %d epochs", h1.Stopped, len(h1.Epochs))
				}
				ck, err := LoadCheckpoint(path)
				if err != nil {
					t.Fatal(err)
				}
				if ck.Epoch != c.wantEpoch || ck.Batch != c.wantBatch || (len(ck.Perm) > 0) != c.wantPerm {
					t.Fatalf("checkpoint at epoch %d batch %d with order %v; expected %d, %d, %v", ck.Epoch, ck.Batch, len(ck.Perm) > 0, c.wantEpoch, c.wantBatch, c.wantPerm)
				}
				resume := func(ck *Checkpoint, what string) {
					m2 := mustNew(t, config(), f, 99) // another init: the checkpoint must overwrite it
					ropt := opt
					ropt.Resume = ck
					h2, err := m2.Train(context.Background(), f.train, f.val, ropt)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(m2.params, ref.params) {
						t.Errorf("weights resumed from %s differ from the uninterrupted run", what)
					}
					if len(h2.Epochs) != len(refH.Epochs) || h2.BestEpoch != refH.BestEpoch {
						t.Fatalf("resumed history has %d epochs (best %d), uninterrupted %d (best %d)", len(h2.Epochs), h2.BestEpoch, len(refH.Epochs), refH.BestEpoch)
					}
					for i := range h2.Epochs {
						a, b := h2.Epochs[i], refH.Epochs[i]
						if a.TrainLoss != b.TrainLoss || a.ValLoss != b.ValLoss {
							t.Errorf("epoch %d: resumed losses %v/%v, uninterrupted %v/%v", i+1, a.TrainLoss, a.ValLoss, b.TrainLoss, b.ValLoss)
						}
					}
				}
				resume(ck, "the interruption checkpoint")
				resume(atEpoch2, "the end of epoch 2")

				bad := opt
				bad.Resume = ck
				bad.BatchSize = 8
				if _, err := mustNew(t, config(), f, 1).Train(context.Background(), f.train, f.val, bad); err == nil || !strings.Contains(err.Error(), "batch_size") {
					t.Errorf("resume with another batch size: %v", err)
				}
			})
		}
	}
}

// TestMemoryFlatAcrossEpochs: graphs are built once and reused, so the live heap after
// the first epochs must not grow with more epochs.
func TestMemoryFlatAcrossEpochs(t *testing.T) {
	f := newFixture(t, defaultSynth(), 200, 40, 0)
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		t.Run(arch, func(t *testing.T) {
			m := mustNew(t, f.config(arch), f, 1)
			opt := trainOpts(24)
			var heap []uint64
			opt.OnEpoch = func(EpochStats) {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = append(heap, ms.HeapAlloc)
			}
			if _, err := m.Train(context.Background(), f.train, f.val, opt); err != nil {
				t.Fatal(err)
			}
			// the history and best-weight copy grow a little; a leaked graph or per-step
			// buffer would add far more than 1 MiB over 20 epochs
			growth := int64(heap[len(heap)-1]) - int64(heap[3])
			t.Logf("heap after epoch 4: %d KiB, after epoch %d: %d KiB", heap[3]>>10, len(heap), heap[len(heap)-1]>>10)
			if growth > 1<<20 {
				t.Errorf("live heap grew by %d KiB between epoch 4 and %d", growth>>10, len(heap))
			}
		})
	}
}

func TestNaNLossStopsWithEpochAndBatch(t *testing.T) {
	f := newFixture(t, defaultSynth(), 64, 20, 0)
	train := cloneSamples(f.train)
	// finite in original and scaled units, but its square overflows float32
	train[40].Post[0], train[40].PostObserved[0] = 3e37, true
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	var checkpoints int
	opt := trainOpts(3)
	opt.CheckpointEvery = 1
	opt.OnCheckpoint = func(*Checkpoint) error { checkpoints++; return nil }
	h, err := m.Train(context.Background(), train, f.val, opt)
	if err == nil {
		t.Fatal("training on an overflowing target succeeded")
	}
	if !strings.Contains(err.Error(), "epoch 1 batch") || !strings.Contains(err.Error(), "loss is +Inf") {
		t.Errorf("error %q does not name the loss, epoch and batch", err)
	}
	if h == nil || h.Stopped != StopFailed || checkpoints != 0 {
		t.Errorf("history %+v, %d checkpoints; expected failed and no checkpoint of bad weights", h, checkpoints)
	}
	for _, p := range m.params {
		if !finite32(p) {
			t.Fatal("model holds non-finite weights after a failed run")
		}
	}
}

// TestResumeRejectsBadCheckpoints: a checkpoint from another model or a damaged one is an
// error, never a panic or a silent fresh start.
func TestResumeRejectsBadCheckpoints(t *testing.T) {
	f := newFixture(t, defaultSynth(), 40, 10, 0)
	var ck *Checkpoint
	opt := trainOpts(1)
	opt.CheckpointEvery = 1
	opt.OnCheckpoint = func(c *Checkpoint) error { ck = c; return nil }
	if _, err := mustNew(t, f.config(ArchPooledResidual), f, 1).Train(context.Background(), f.train, f.val, opt); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(c *Checkpoint)
		cfg  Config
		want string
	}{
		{"other architecture", func(c *Checkpoint) {}, f.config(ArchSeed), "config"},
		{"bad order", func(c *Checkpoint) { c.Batch, c.Perm = 1, make([]int, len(f.train)) }, f.config(ArchPooledResidual), "permutation"},
		{"short order", func(c *Checkpoint) { c.Batch, c.Perm = 1, []int{0} }, f.config(ArchPooledResidual), "covers 1 samples"},
		{"truncated weights", func(c *Checkpoint) { c.Params = c.Params[:10] }, f.config(ArchPooledResidual), "parameters"},
		{"bad rng", func(c *Checkpoint) { c.RNG = []byte("x") }, f.config(ArchPooledResidual), "rng"},
		{"format", func(c *Checkpoint) { c.FormatVersion = 99 }, f.config(ArchPooledResidual), "version 99"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := *ck
			c.edit(&bad)
			ropt := trainOpts(3)
			ropt.Resume = &bad
			_, err := mustNew(t, c.cfg, f, 1).Train(context.Background(), f.train, f.val, ropt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, expected an error mentioning %q", err, c.want)
			}
		})
	}
	if _, err := LoadCheckpoint(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("loading a missing checkpoint succeeded")
	}
}
