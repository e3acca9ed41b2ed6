package model

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"gorgonia.org/tensor"
)

// TestRewindMatchesReset checks that keeping the tape machine's registers between runs
// (rewind) gives bit-identical losses, predictions, gradients and Adam updates to
// dropping them (Reset) over many training steps, for both architectures, in training and
// evaluation graphs, float32 and float64, and that every one of these graphs takes the
// fast path.
func TestRewindMatchesReset(t *testing.T) {
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		for _, c := range []struct {
			cfg   Config
			batch int
			dt    tensor.Dtype
		}{{tinyConfig(arch), 3, tensor.Float32}, {tinyConfig(arch), 1, tensor.Float64}, {benchConfig(arch), 4, tensor.Float32}} {
			for _, train := range []bool{true, false} {
				name := arch + "/" + c.dt.String() + "/batch=" + strconv.Itoa(c.batch) + "/train=" + strconv.FormatBool(train)
				t.Run(name, func(t *testing.T) { checkRewind(t, c.cfg, c.batch, c.dt, train) })
			}
		}
	}
}

func checkRewind(t *testing.T, cfg Config, bs int, dt tensor.Dtype, train bool) {
	specs := paramSpecs(cfg)
	init := initParams(cfg, specs, 3)
	maxRx := min(cfg.Layout.BlockRows, 12)
	key := graphKey{batch: bs, rows: (&Model{cfg: cfg}).rowBucket(maxRx), train: train}
	type side struct {
		m    *Model
		ng   *netGraph
		opt  *adam
		grad []float32
		pred []float32
	}
	mk := func(reuse bool) *side {
		m := &Model{cfg: cfg, specs: specs, params: append([]float32(nil), init...)}
		ng, err := buildGraph(cfg, specs, m.params, key, dt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ng.close)
		if !ng.reuse.ok {
			t.Fatalf("graph does not take the register-reusing path")
		}
		ng.reuse.ok = reuse
		return &side{m: m, ng: ng, opt: newAdam(len(init), 1e-2), grad: make([]float32, len(init)),
			pred: make([]float32, bs*len(cfg.Layout.Analytes))}
	}
	fast, slow := mk(true), mk(false)
	r := rand.New(rand.NewPCG(7, uint64(bs)))
	drop := make([]float32, bs*cfg.LSTMUnits)
	for step := 0; step < 12; step++ {
		batch := randomScaled(r, cfg, 1+r.IntN(bs), maxRx) // partial batches too
		fast.m.dropoutMask(r, drop)
		var losses [2]float64
		for k, s := range []*side{fast, slow} {
			if train {
				s.ng.fill(cfg, batch, drop)
				if err := s.ng.run(); err != nil {
					t.Fatal(err)
				}
				s.ng.copyGrads(s.grad)
				s.opt.update(s.m.params, s.grad)
				losses[k] = s.ng.loss()
				if dt == tensor.Float64 { // float64 graphs copy the parameters at build
					continue
				}
			} else {
				s.ng.fill(cfg, batch, nil)
				if err := s.ng.run(); err != nil {
					t.Fatal(err)
				}
			}
			s.ng.copyPred(s.pred)
		}
		if losses[0] != losses[1] {
			t.Fatalf("step %d: loss %v with kept registers, %v with Reset", step, losses[0], losses[1])
		}
		for _, cmp := range [][2][]float32{{fast.pred, slow.pred}, {fast.grad, slow.grad}, {fast.m.params, slow.m.params}} {
			for i := range cmp[0] {
				if cmp[0][i] != cmp[1][i] {
					t.Fatalf("step %d: element %d differs: %v with kept registers, %v with Reset", step, i, cmp[0][i], cmp[1][i])
				}
			}
		}
	}
}
