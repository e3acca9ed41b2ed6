package vecadam

//go:noescape
func stepSSE(p, g, m, v []float32, k *[6]float32) int

//go:noescape
func stepAVX2(p, g, m, v []float32, k *[6]float32) int

func hasAVX2() bool

var useAVX2 = hasAVX2()

func step(p, g, m, v []float32, k *[6]float32) int {
	if useAVX2 {
		done := stepAVX2(p, g, m, v, k)
		return done + stepSSE(p[done:], g[done:], m[done:], v[done:], k)
	}
	return stepSSE(p, g, m, v, k)
}
