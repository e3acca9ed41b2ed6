package model

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
)

// C3: a stop is noticed as a shard starts, not after the whole batch: the batch
// in progress is abandoned with the weights untouched, and resuming from the
// checkpoint gives the uninterrupted run's weights bit for bit.
func TestStopBetweenShardsResumesBitIdentical(t *testing.T) {
	f := newFixture(t, defaultSynth(), 600, 30, 0) // batches of 256, 256 and 88
	opt := trainOpts(2)
	opt.BatchSize = 256 // 4 shards of 64
	ref := mustNew(t, f.config(ArchPooledResidual), f, 1)
	if _, err := ref.Train(context.Background(), f.train, f.val, opt); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran, batches atomic.Int64
	iopt := opt
	iopt.afterBatch = func(epoch, batch int) { batches.Add(1) }
	iopt.beforeShard = func(k int) {
		if ran.Add(1) == 4+1 { // the second batch's first shard
			cancel()
		}
	}
	var ck *Checkpoint
	iopt.OnCheckpoint = func(c *Checkpoint) error { ck = c; return nil }
	m1 := mustNew(t, f.config(ArchPooledResidual), f, 1)
	if _, err := m1.Train(ctx, f.train, f.val, iopt); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if got := ran.Load(); got >= 8 {
		t.Errorf("%d shards ran; the stop waited for the whole batch", got)
	}
	if ck == nil || ck.Epoch != 0 || ck.Batch != 1 || batches.Load() != 1 {
		t.Fatalf("checkpoint %+v after %d steps; want epoch 0 batch 1 after 1 step", ck != nil, batches.Load())
	}
	m2 := mustNew(t, f.config(ArchPooledResidual), f, 99)
	ropt := opt
	ropt.Resume = ck
	if _, err := m2.Train(context.Background(), f.train, f.val, ropt); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m2.params, ref.params) {
		t.Error("weights resumed from a stop between shards differ from the uninterrupted run")
	}
}
