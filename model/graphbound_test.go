package model

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestShardGraphsBounded: batches whose longest groups fall in ever new row buckets keep
// at most maxShardGraphs compiled graphs per shard slot, and an evicted bucket's graph is
// rebuilt when it comes back; idle evaluation graphs stay within one per core and key.
func TestShardGraphsBounded(t *testing.T) {
	cfg := tinyConfig(ArchPooledResidual)
	specs := paramSpecs(cfg)
	m := &Model{cfg: cfg, specs: specs, params: initParams(cfg, specs, 1), pool: map[graphKey][]*netGraph{}}
	r := rand.New(rand.NewPCG(5, 6))
	s := newShardedStep(m, 4)
	defer s.close()
	a := newAdam(len(m.params), 1e-3)
	grads := make([]float32, len(m.params))
	drop := make([]float32, 4*cfg.LSTMUnits)
	for i := range drop {
		drop[i] = 1
	}
	for _, rows := range []int{1, 2, 4, 8, 16, 32, 1, 32} {
		batch := randomScaled(r, cfg, 4, rows)
		for _, b := range batch {
			b.n = rows // the bucket under test, whatever the random draw
			b.emb, b.du = randomRx(nil, rows, cfg.Layout.EmbeddingDim)
		}
		if _, _, err := s.step(context.Background(), batch, drop, grads, a, 0, 0); err != nil {
			t.Fatalf("rows %d: %v", rows, err)
		}
		for k, gs := range s.graphs {
			if len(gs) > maxShardGraphs {
				t.Fatalf("rows %d: shard %d keeps %d graphs, want at most %d", rows, k, len(gs), maxShardGraphs)
			}
		}
	}
	var taken []*netGraph
	for range 3 * runtime.GOMAXPROCS(0) {
		ng, err := m.getEval(graphKey{batch: 1, rows: 1})
		if err != nil {
			t.Fatal(err)
		}
		taken = append(taken, ng)
	}
	for _, ng := range taken {
		m.putEval(ng)
	}
	for key, free := range m.pool {
		if len(free) > maxIdleEval() {
			t.Errorf("%+v: %d idle evaluation graphs, want at most %d", key, len(free), maxIdleEval())
		}
		for _, ng := range free {
			ng.close()
		}
	}
}
