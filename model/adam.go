package model

import (
	"math"

	"github.com/blueblood/blueblood/model/internal/vecadam"
)

// adam is Adam over the flat parameter buffer (PyTorch's defaults: beta1 0.9, beta2
// 0.999, eps 1e-8). Ours rather than gorgonia's solver: that one was ~2x slower and
// allocated per step.
type adam struct {
	lr   float64
	m, v []float32
	step int64
}

const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

func newAdam(n int, lr float64) *adam {
	return &adam{lr: lr, m: make([]float32, n), v: make([]float32, n)}
}

// next counts a step and returns its step size and epsilon for adamKernel. The
// per-element math is float32; the bias corrections are computed in float64 once per step.
func (a *adam) next() (step, eps float32) {
	a.step++
	t := float64(a.step)
	bc1 := 1 - math.Pow(adamBeta1, t)
	bc2 := 1 - math.Pow(adamBeta2, t)
	// p -= lr/bc1 * m / (sqrt(v/bc2) + eps) == p -= step * m / (sqrt(v) + eps*sqrt(bc2))
	return float32(a.lr / bc1 * math.Sqrt(bc2)), float32(adamEps * math.Sqrt(bc2))
}

func adamKernel(p, g, m, v []float32, step, eps float32) {
	const b1, b2 = float32(adamBeta1), float32(adamBeta2)
	const c1, c2 = 1 - b1, 1 - b2
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	// AVX2 or SSE lanes on amd64 (bit-identical to the loop below), the rest here
	done := vecadam.Step(p, g, m, v, &[6]float32{b1, c1, b2, c2, step, eps})
	adamScalar(p[done:], g[done:], m[done:], v[done:], step, eps)
}

// adamScalar is the per-element Adam step; vecadam.Step does exactly these operations.
func adamScalar(p, g, m, v []float32, step, eps float32) {
	const b1, b2 = float32(adamBeta1), float32(adamBeta2)
	const c1, c2 = 1 - b1, 1 - b2
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		gi := g[i]
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= step * mi / (float32(math.Sqrt(float64(vi))) + eps)
	}
}
