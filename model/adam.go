package model

import (
	"math"
	"runtime"
	"sync"

	"github.com/blueblood/blueblood/model/internal/vecadam"
	gonumblas "gonum.org/v1/gonum/blas/gonum"
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

// update applies one step to p with gradient g. The per-element math is float32
// (the bias corrections are computed in float64 once per step).
func (a *adam) update(p, g []float32) {
	a.step++
	t := float64(a.step)
	bc1 := 1 - math.Pow(adamBeta1, t)
	bc2 := 1 - math.Pow(adamBeta2, t)
	// p -= lr/bc1 * m / (sqrt(v/bc2) + eps) == p -= step * m / (sqrt(v) + eps*sqrt(bc2))
	step := float32(a.lr / bc1 * math.Sqrt(bc2))
	eps := float32(adamEps * math.Sqrt(bc2))
	n := len(p)
	workers := min(runtime.GOMAXPROCS(0), 4, n/adamChunk)
	if workers <= 1 {
		adamKernel(p, g[:n], a.m[:n], a.v[:n], step, eps)
		return
	}
	// element-wise, so splitting the buffer changes nothing in the result
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			adamKernel(p[lo:hi], g[lo:hi], a.m[lo:hi], a.v[lo:hi], step, eps)
		}()
	}
	wg.Wait()
}

// adamChunk is the smallest share of parameters worth a goroutine. With the vector
// kernel, two workers measured slower than one up to 600K parameters on the 2-core
// machine (both production models are smaller), so only larger models split.
const adamChunk = 1 << 19

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

// clipGlobalNorm scales g so its L2 norm is at most maxNorm (0 = no clipping); it returns
// the norm before clipping. The sum of squares is a float32 SIMD dot product: a norm
// beyond ~1.8e19 reads as +Inf, which the caller treats as a diverged step anyway.
func clipGlobalNorm(g []float32, maxNorm float64) float64 {
	norm := math.Sqrt(float64(gonumblas.Implementation{}.Sdot(len(g), g, 1, g, 1)))
	if maxNorm > 0 && norm > maxNorm {
		s := float32(maxNorm / (norm + 1e-6))
		for i := range g {
			g[i] *= s
		}
	}
	return norm
}
