package model

import (
	"bytes"
	"context"
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
