package model

import (
	"math"
	"math/rand/v2"
)

// initParams fills a flat parameter buffer: Glorot-uniform weights, zero biases, and
// forget-gate bias 1 so the cell starts by keeping what it saw at the first step. The
// output layer starts at zero, so the untrained network predicts scaled 0 plus its
// residual head: the pre value where observed and the training mean elsewhere (post = pre
// for pooled-residual, the training mean for seed). Early stopping weighs those weights
// too, so a run never returns worse than that baseline on validation. The hidden layers'
// gradients are zero for the first step only (they flow through out_w).
func initParams(cfg Config, specs []paramSpec, seed int64) []float32 {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6d6f64656c696e69)) // stream "modelini"
	p := make([]float32, paramCount(specs))
	u := cfg.LSTMUnits
	for _, s := range specs {
		seg := p[s.Off : s.Off+s.size()]
		if s.Name == "out_w" || s.frozen {
			continue
		}
		if s.bias {
			if s.Name == "lstm_b" {
				for k := u; k < 2*u; k++ {
					seg[k] = 1
				}
			}
			continue
		}
		limit := math.Sqrt(6 / float64(s.fanIn+s.fanOut))
		for i := range seg {
			seg[i] = float32((2*r.Float64() - 1) * limit)
		}
	}
	return p
}
