package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
	"gorgonia.org/tensor"
)

// tinyConfig is small enough for a finite-difference check of every parameter.
func tinyConfig(arch string) Config {
	return Config{
		Architecture: arch, LSTMUnits: 3, EncoderUnits: 4, DropoutRate: 0.25,
		Layout: pipeline.Layout{Analytes: []string{"a", "b", "c"}, EmbeddingDim: 3, BlockRows: 3, BlockFeatures: 5},
	}
}

// randomScaled makes scaled samples with some missing values and 0..maxRx prescription rows.
func randomScaled(r *rand.Rand, cfg Config, n, maxRx int) []*scaled {
	a := len(cfg.Layout.Analytes)
	out := make([]*scaled, n)
	for i := range out {
		s := &scaled{pre: make([]float32, a), preObs: make([]float32, a), post: make([]float32, a), postMask: make([]float32, a)}
		for j := 0; j < a; j++ {
			if r.Float64() < 0.7 {
				s.pre[j], s.preObs[j] = float32(r.NormFloat64()), 1
			}
			if r.Float64() < 0.7 {
				s.post[j], s.postMask[j] = float32(r.NormFloat64()), 1
			}
		}
		s.n = r.IntN(maxRx + 1)
		s.emb, s.du = randomRx(r, s.n, cfg.Layout.EmbeddingDim)
		out[i] = s
	}
	return out
}

// splitRx splits n row-major rows of RxFeatures values into scaled's embedding rows and
// dose/unit features.
func splitRx(rx []float32, n, dim int) ([][]float32, []float32) {
	emb, du := make([][]float32, n), make([]float32, 2*n)
	for i := range emb {
		row := rx[i*(dim+2) : (i+1)*(dim+2)]
		emb[i] = row[:dim:dim]
		du[2*i], du[2*i+1] = row[dim], row[dim+1]
	}
	return emb, du
}

// randomRx makes n prescription rows of random scaled features (r nil: zeros).
func randomRx(r *rand.Rand, n, dim int) ([][]float32, []float32) {
	emb, du := make([][]float32, n), make([]float32, 2*n)
	for i := range emb {
		emb[i] = make([]float32, dim)
		if r == nil {
			continue
		}
		for k := range emb[i] {
			emb[i][k] = float32(r.NormFloat64())
		}
		du[2*i], du[2*i+1] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	return emb, du
}

// TestGradientFiniteDifference checks gorgonia's gradient of the whole graph against
// central differences in float64, for every parameter of both architectures.
func TestGradientFiniteDifference(t *testing.T) {
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		t.Run(arch, func(t *testing.T) {
			cfg := tinyConfig(arch)
			specs := paramSpecs(cfg)
			r := rand.New(rand.NewPCG(1, 2))
			params := initParams(cfg, specs, 7)
			for i := range params { // non-trivial biases too
				params[i] += float32(0.3 * r.NormFloat64())
			}
			rows := cfg.Layout.BlockRows
			batch := randomScaled(r, cfg, 3, rows)
			drop := make([]float32, 4*cfg.LSTMUnits)
			for i := range drop {
				if r.Float64() > 0.25 {
					drop[i] = 1 / 0.75
				}
			}
			ng, err := buildGraph(cfg, specs, params, graphKey{batch: 4, rows: rows, train: true}, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			defer ng.close()
			if ng.fill(cfg, batch, drop) == 0 {
				t.Fatal("no observed targets in the random batch")
			}
			if err := ng.run(); err != nil {
				t.Fatal(err)
			}
			analytic := ng.grads64(paramCount(specs))
			lossAt := func() float64 {
				if err := ng.run(); err != nil {
					t.Fatal(err)
				}
				return ng.loss()
			}
			const h = 1e-6
			worst := 0.0
			nonzero := 0
			for _, s := range specs {
				for i := s.Off; i < s.Off+s.size(); i++ {
					orig := ng.params64[i]
					ng.params64[i] = orig + h
					lp := lossAt()
					ng.params64[i] = orig - h
					lm := lossAt()
					ng.params64[i] = orig
					num := (lp - lm) / (2 * h)
					diff := math.Abs(num - analytic[i])
					rel := diff / math.Max(1e-4, math.Abs(num)+math.Abs(analytic[i]))
					if rel > worst {
						worst = rel
					}
					if rel > 1e-5 && diff > 1e-8 {
						t.Errorf("%s[%d]: analytic %.10g, numeric %.10g", s.Name, i-s.Off, analytic[i], num)
					}
					if analytic[i] != 0 {
						nonzero++
					}
				}
			}
			// a graph that silently dropped a path would give zero gradients; the seed's
			// unused output block columns are the only legitimate zeros
			if nonzero < len(analytic)/4 {
				t.Errorf("only %d of %d gradients are non-zero", nonzero, len(analytic))
			}
			t.Logf("%s: %d parameters, worst relative error %.3g", arch, len(analytic), worst)
		})
	}
}
