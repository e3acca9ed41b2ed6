package model

import (
	"math"
	"math/rand/v2"
)

// initParams fills a flat parameter buffer: Glorot-uniform weights, zero biases, and
// forget-gate bias 1 so the cell starts by keeping what it saw at the first step.
func initParams(cfg Config, specs []paramSpec, seed int64) []float32 {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6d6f64656c696e69)) // stream "modelini"
	p := make([]float32, paramCount(specs))
	u := cfg.LSTMUnits
	for _, s := range specs {
		seg := p[s.Off : s.Off+s.size()]
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
