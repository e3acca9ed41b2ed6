package vecadam

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKernelsMatchScalar checks both vector kernels, whichever one Step picks on this CPU,
// against the scalar loop bit for bit.
func TestKernelsMatchScalar(t *testing.T) {
	kernels := map[string]func(p, g, m, v []float32, k *[6]float32) int{"sse": stepSSE}
	if hasAVX2() {
		kernels["avx2"] = stepAVX2
	} else {
		t.Log("no AVX2 here: only the SSE kernel is checked")
	}
	k := &[6]float32{0.9, 1 - float32(0.9), 0.999, 1 - float32(0.999), 0.0123, 3e-9}
	for name, kern := range kernels {
		r := rand.New(rand.NewPCG(5, 5))
		for n := 0; n <= 67; n++ {
			p1, g := make([]float32, n), make([]float32, n)
			for i := range p1 {
				p1[i] = float32(r.NormFloat64())
			}
			p2 := slices.Clone(p1)
			m1, v1, m2, v2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for step := 0; step < 20; step++ {
				for i := range g {
					g[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-40)))
				}
				done := kern(p1, g, m1, v1, k)
				scalar(p1[done:], g[done:], m1[done:], v1[done:], k)
				scalar(p2, g, m2, v2, k)
			}
			if !slices.Equal(p1, p2) || !slices.Equal(m1, m2) || !slices.Equal(v1, v2) {
				t.Fatalf("%s, n=%d: differs from the scalar loop", name, n)
			}
		}
	}
}

func scalar(p, g, m, v []float32, k *[6]float32) {
	for i := range p {
		m[i] = k[0]*m[i] + k[1]*g[i]
		v[i] = k[2]*v[i] + k[3]*g[i]*g[i]
		p[i] -= k[4] * m[i] / (float32(math.Sqrt(float64(v[i]))) + k[5])
	}
}
