package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// update applies one whole step to p, as shardedStep.apply does chunk by chunk.
func (a *adam) update(p, g []float32) {
	step, eps := a.next()
	adamKernel(p, g[:len(p)], a.m[:len(p)], a.v[:len(p)], step, eps)
}

// TestAdamMatchesReference checks Adam against PyTorch's formulation computed in float64
// (m_hat = m/(1-β1^t), v_hat = v/(1-β2^t), p -= lr*m_hat/(sqrt(v_hat)+eps)).
func TestAdamMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, lr = 50, 0.01
	p := make([]float32, n)
	ref := make([]float64, n)
	for i := range p {
		p[i] = float32(r.NormFloat64())
		ref[i] = float64(p[i])
	}
	m, v := make([]float64, n), make([]float64, n)
	a := newAdam(n, lr)
	g := make([]float32, n)
	for step := 1; step <= 20; step++ {
		for i := range g {
			g[i] = float32(r.NormFloat64() * math.Pow(10, float64(i%5)-3)) // 1e-3..10
		}
		a.update(p, g)
		for i := range ref {
			gi := float64(g[i])
			m[i] = adamBeta1*m[i] + (1-adamBeta1)*gi
			v[i] = adamBeta2*v[i] + (1-adamBeta2)*gi*gi
			mh := m[i] / (1 - math.Pow(adamBeta1, float64(step)))
			vh := v[i] / (1 - math.Pow(adamBeta2, float64(step)))
			ref[i] -= lr * mh / (math.Sqrt(vh) + adamEps)
		}
	}
	for i := range p {
		if d := math.Abs(float64(p[i]) - ref[i]); d > 1e-5*math.Max(1, math.Abs(ref[i])) {
			t.Errorf("param %d: %v, reference %v", i, p[i], ref[i])
		}
	}
}

// TestAdamSIMDIsExact: the vector kernel (amd64) must give the scalar loop's bits, over
// lengths that do and do not fill its lanes and values from subnormal to huge.
func TestAdamSIMDIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for n := 0; n <= 41; n++ {
		p1, g := make([]float32, n), make([]float32, n)
		for i := range p1 {
			p1[i] = float32(r.NormFloat64())
		}
		p2 := slices.Clone(p1)
		m1, v1, m2, v2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for step := 1; step <= 30; step++ {
			for i := range g {
				switch r.IntN(6) {
				case 0:
					g[i] = 0
				case 1:
					g[i] = float32(r.NormFloat64() * 1e-40) // subnormal
				default:
					g[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(24)-12)))
				}
			}
			s := float32(0.001 / (1 - math.Pow(adamBeta1, float64(step))) * math.Sqrt(1-math.Pow(adamBeta2, float64(step))))
			e := float32(adamEps * math.Sqrt(1-math.Pow(adamBeta2, float64(step))))
			adamKernel(p1, g, m1, v1, s, e)
			adamScalar(p2, g, m2, v2, s, e)
		}
		if !slices.Equal(p1, p2) || !slices.Equal(m1, m2) || !slices.Equal(v1, v2) {
			t.Fatalf("n=%d: vector Adam differs from the scalar loop", n)
		}
	}
}
