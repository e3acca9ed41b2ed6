package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	gonumblas "gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

// Data-parallel training steps.
//
// A batch is split into fixed shards whose layout depends on the batch size only, never
// on the number of cores: each shard runs forward and backward on its own graph and tape
// machine (the weights are shared and only read during the pass), the shard gradients
// are summed in shard order, and one Adam step follows. The arithmetic is therefore the
// same on 1 or 16 cores and the trained model is bit-for-bit the same; more cores only
// run more shards at once. Every shard weighs its targets by the whole batch's observed
// count, so the summed loss and gradient are the batch's.

// Shard sizes: at most maxShards shards per batch, of at least shardSamples samples. Every
// shard pays gorgonia's per-run and per-instruction costs and computes, copies and sums a
// full-size gradient, so shards must not be small: on 2 cores, batch 128 as two 64-sample
// shards measured 1.2-1.4x faster than as four of 32 (which beat eight of 16) for both
// architectures, on 1 core and on 2. 8 shards keep an 8-vCPU instance busy from batch 512.
const (
	shardSamples = 64
	maxShards    = 8
)

// ShardInfo describes the data-parallel layout, for the trainer's startup line.
func ShardInfo() string {
	return fmt.Sprintf("each batch runs as up to %d data-parallel shards of at least %d samples, laid out the same on any number of cores", maxShards, shardSamples)
}

// shardLayout returns how many shards, of at most how many samples, a training batch of
// batchSize is split into. It never depends on the number of cores.
func shardLayout(batchSize int) (n, size int) {
	if batchSize < 1 {
		return 1, 1
	}
	n = min(maxShards, (batchSize+shardSamples-1)/shardSamples)
	return n, (batchSize + n - 1) / n
}

// shardedStep runs training steps for one batch size. Not safe for concurrent use.
type shardedStep struct {
	m       *Model
	n       int
	size    int
	graphs  []map[graphKey]*netGraph // per shard slot: compiled graphs by row bucket
	lastUse []map[graphKey]int       // per shard slot: the step each graph last ran in
	steps   int
	used    []*netGraph // this step's graph per shard; nil for an empty shard
	losses  []float64
	squares []float64 // per update chunk, the sum of squared gradients

	beforeShard func(k int) // tests: called as shard k starts running
}

// errStoppedMidBatch: the context ended before every shard of a batch ran. Stops are
// checked as each shard starts, so a stop does not wait for a long batch; the weights
// are untouched (the update comes after all shards), so the batch reruns on resume.
var errStoppedMidBatch = errors.New("stopped between shards")

func newShardedStep(m *Model, batchSize int) *shardedStep {
	n, size := shardLayout(batchSize)
	s := &shardedStep{m: m, n: n, size: size, graphs: make([]map[graphKey]*netGraph, n),
		lastUse: make([]map[graphKey]int, n), used: make([]*netGraph, n), losses: make([]float64, n),
		squares: make([]float64, (len(m.params)+updateChunk-1)/updateChunk)}
	for i := range s.graphs {
		s.graphs[i], s.lastUse[i] = map[graphKey]*netGraph{}, map[graphKey]int{}
	}
	return s
}

// maxShardGraphs bounds the compiled graphs one shard slot keeps: each row bucket of a
// batch has its own graph, and keeping every bucket's for the whole run grew with the
// longest groups. Rebuilding an evicted one costs about 10 ms.
const maxShardGraphs = 3

// evict closes shard slot k's least recently used graph when it holds maxShardGraphs.
func (s *shardedStep) evict(k int) {
	if len(s.graphs[k]) < maxShardGraphs {
		return
	}
	var oldest graphKey
	first := true
	for key := range s.graphs[k] {
		if first || s.lastUse[k][key] < s.lastUse[k][oldest] {
			oldest, first = key, false
		}
	}
	s.graphs[k][oldest].close()
	delete(s.graphs[k], oldest)
	delete(s.lastUse[k], oldest)
}

func (s *shardedStep) close() {
	for _, gs := range s.graphs {
		for _, ng := range gs {
			ng.close()
		}
	}
}

// step runs forward and backward on batch (at most n*size samples; drop is the batch's
// dropout mask) and, if the loss is finite and the batch has observed targets, applies one
// Adam update. It returns the batch loss and the number of observed targets.
func (s *shardedStep) step(ctx context.Context, batch []*scaled, drop, grads []float32, a *adam, clip, decay float64) (float64, int, error) {
	m := s.m
	u := m.cfg.LSTMUnits
	s.steps++
	count := observedCount(batch)
	inv := float32(0)
	if count > 0 {
		inv = 1 / float32(count)
	}
	err := parallelFor(s.n, func(k int) error {
		s.used[k], s.losses[k] = nil, 0
		if ctx.Err() != nil {
			return errStoppedMidBatch
		}
		if s.beforeShard != nil {
			s.beforeShard(k)
		}
		lo := k * s.size
		if lo >= len(batch) {
			return nil // the tail of a short last batch
		}
		part := batch[lo:min(lo+s.size, len(batch))]
		key := graphKey{batch: s.size, rows: m.batchRows(part), train: true}
		ng := s.graphs[k][key]
		if ng == nil {
			s.evict(k)
			var err error
			if ng, err = buildGraph(m.cfg, m.specs, m.params, key, tensor.Float32); err != nil {
				return err
			}
			s.graphs[k][key] = ng
		}
		s.lastUse[k][key] = s.steps
		ng.fillWeighted(m.cfg, part, drop[lo*u:min((lo+s.size)*u, len(drop))], inv)
		if err := ng.run(); err != nil {
			return err
		}
		s.used[k], s.losses[k] = ng, ng.loss()
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	loss := 0.0
	for _, l := range s.losses {
		loss += l
	}
	if count == 0 || math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, count, nil // nothing observed gives no signal; a bad loss is the caller's error
	}
	return loss, count, s.apply(grads, a, clip, decay)
}

// updateChunk is how much of the flat parameter buffer one worker takes at a time when
// the shard gradients are summed and the weights updated. The chunks depend on the
// model's size only, so every sum is made in the same order on any number of cores.
const updateChunk = 1 << 14

// apply sums the shards' gradients into grads, clips them to a global norm, adds weight
// decay and takes one Adam step. Two passes over fixed chunks run on all cores: the first
// sums a chunk and its squares while it is in cache, the second (once the norm is known)
// clips, decays and steps it. Before, the clip, decay and Adam ran on one core while the
// other waited.
func (s *shardedStep) apply(grads []float32, a *adam, clip, decay float64) error {
	m := s.m
	nc := len(s.squares)
	bounds := func(c int) (int, int) { return c * updateChunk, min((c+1)*updateChunk, len(grads)) }
	if err := parallelFor(nc, func(c int) error {
		lo, hi := bounds(c)
		s.sumShards(grads, lo, hi)
		g := grads[lo:hi]
		s.squares[c] = float64(gonumblas.Implementation{}.Sdot(len(g), g, 1, g, 1))
		return nil
	}); err != nil {
		return err
	}
	sum := 0.0
	for _, v := range s.squares {
		sum += v // in chunk order
	}
	norm := math.Sqrt(sum)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return errNonFiniteGrad // before the update: the weights stay good
	}
	scale := float32(1)
	if clip > 0 && norm > clip {
		scale = float32(clip / (norm + 1e-6))
	}
	step, eps := a.next()
	return parallelFor(nc, func(c int) error {
		lo, hi := bounds(c)
		if g := grads[lo:hi]; scale != 1 {
			for i := range g {
				g[i] *= scale
			}
		}
		if decay > 0 {
			addWeightDecay(m.specs, m.params, grads, float32(decay), lo, hi)
		}
		adamKernel(m.params[lo:hi], grads[lo:hi], a.m[lo:hi], a.v[lo:hi], step, eps)
		return nil
	})
}

// sumShards writes into grads[lo:hi] the sum of the shards' gradients, shard by shard in
// order (onto zero, so parameters no node reads get 0).
func (s *shardedStep) sumShards(grads []float32, lo, hi int) {
	clear(grads[lo:hi])
	for _, ng := range s.used {
		if ng == nil {
			continue
		}
		for b, blk := range ng.blocks {
			src := (*ng.gradVs[b]).Data().([]float32)
			n := blk.rowLen()
			blk.forRows(func(flat, node int) {
				// the part of this row inside [lo, hi)
				from, to := max(lo, flat), min(hi, flat+n)
				if from < to {
					gonumblas.Implementation{}.Saxpy(to-from, 1, src[node+from-flat:node+to-flat], 1, grads[from:to], 1)
				}
			})
		}
	}
}

// parallelFor runs fn(0..n-1) on up to GOMAXPROCS goroutines and returns the error of the
// lowest index that failed. Which goroutine runs an index never changes a result. A panic
// in fn becomes that index's error (a *PanicError): on a worker goroutine it would end the
// process past every recover of the caller.
func parallelFor(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, n)
	call := func(i int) (err error) {
		defer Recover(&err)
		return fn(i)
	}
	if workers <= 1 {
		for i := range n {
			errs[i] = call(i)
		}
		return firstErr(errs)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				errs[i] = call(i)
			}
		}()
	}
	wg.Wait()
	return firstErr(errs)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
