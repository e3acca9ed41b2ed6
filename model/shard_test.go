package model

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestSameModelOnAnyCoreCount: the shard layout depends on the batch size only, so
// training on 1, 2 or 4 cores writes byte-identical model files, and prediction gives
// identical values.
func TestSameModelOnAnyCoreCount(t *testing.T) {
	f := newFixture(t, defaultSynth(), 150, 40, 0)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		t.Run(arch, func(t *testing.T) {
			var refFiles map[string][]byte
			var refPred [][]float32
			for _, procs := range []int{1, 2, 4} {
				runtime.GOMAXPROCS(procs)
				m := mustNew(t, f.config(arch), f, 1)
				opt := trainOpts(3)
				opt.BatchSize = 100 // 2 shards of 50; the last batch of each epoch is short
				if n, _ := shardLayout(opt.BatchSize); n < 2 {
					t.Fatalf("batch %d gives %d shard(s): the test needs several", opt.BatchSize, n)
				}
				if _, err := m.Train(context.Background(), f.train, f.val, opt); err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				if err := m.Save(dir); err != nil {
					t.Fatal(err)
				}
				files := map[string][]byte{}
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
						t.Fatal(err)
					}
				}
				pred, err := m.Predict(f.val)
				if err != nil {
					t.Fatal(err)
				}
				if refFiles == nil {
					refFiles, refPred = files, pred
					continue
				}
				for name, want := range refFiles {
					if !bytes.Equal(files[name], want) {
						t.Errorf("GOMAXPROCS=%d: model file %s differs from GOMAXPROCS=1", procs, name)
					}
				}
				if !slices.EqualFunc(pred, refPred, slices.Equal) {
					t.Errorf("GOMAXPROCS=%d: predictions differ from GOMAXPROCS=1", procs)
				}
			}
		})
	}
}

// TestShardLayout pins the layout: enough samples per shard for efficient products, all
// shards used, none larger than the batch.
func TestShardLayout(t *testing.T) {
	for _, c := range []struct{ batch, n, size int }{
		{1, 1, 1}, {64, 1, 64}, {65, 2, 33}, {100, 2, 50}, {128, 2, 64}, {256, 4, 64}, {512, 8, 64}, {1000, 8, 125},
	} {
		n, size := shardLayout(c.batch)
		if n != c.n || size != c.size {
			t.Errorf("shardLayout(%d) = %d x %d, want %d x %d", c.batch, n, size, c.n, c.size)
		}
		if n*size < c.batch || (n-1)*size >= c.batch {
			t.Errorf("shardLayout(%d) = %d x %d leaves a shard empty or samples out", c.batch, n, size)
		}
	}
}

// TestStepClipsAndDecays: the chunked update clips the summed gradient to the global norm
// and adds weight decay to weight matrices only, across chunk boundaries: Adam's first
// moment after one step is (1-beta1) times the gradient it was given.
func TestStepClipsAndDecays(t *testing.T) {
	cfg := benchConfig(ArchPooledResidual) // several update chunks
	specs := paramSpecs(cfg)
	r := rand.New(rand.NewPCG(3, 4))
	batch := randomScaled(r, cfg, 130, 4) // three shards
	drop := make([]float32, len(batch)*cfg.LSTMUnits)
	for i := range drop {
		drop[i] = 1
	}
	given := func(clip, decay float64) ([]float32, []float32) {
		m := &Model{cfg: cfg, specs: specs, params: initParams(cfg, specs, 1)}
		if len(m.params) <= 2*updateChunk {
			t.Fatalf("%d parameters: the test needs several update chunks", len(m.params))
		}
		w := slices.Clone(m.params)
		s := newShardedStep(m, len(batch))
		defer s.close()
		a := newAdam(len(m.params), 1e-3)
		if _, _, err := s.step(context.Background(), batch, drop, make([]float32, len(m.params)), a, clip, decay); err != nil {
			t.Fatal(err)
		}
		g := make([]float32, len(a.m))
		for i, v := range a.m {
			g[i] = v / (1 - adamBeta1)
		}
		return g, w
	}
	raw, w := given(0, 0)
	norm := 0.0
	for _, v := range raw {
		norm += float64(v) * float64(v)
	}
	norm = math.Sqrt(norm)
	clip, decay := norm/4, 0.5
	got, _ := given(clip, decay)
	bias := make([]bool, len(raw))
	for _, s := range specs {
		for i := s.Off; i < s.Off+s.size(); i++ {
			bias[i] = s.bias
		}
	}
	scale := clip / (norm + 1e-6)
	for i := range raw {
		want := scale * float64(raw[i])
		if !bias[i] {
			want += decay * float64(w[i])
		}
		if d := math.Abs(float64(got[i]) - want); d > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("element %d (bias %v): gradient given to Adam %g, want %g", i, bias[i], got[i], want)
		}
	}
}
