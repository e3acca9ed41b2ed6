// Package vecadam is the vector kernel of the model package's Adam step. It lives in its
// own package because Go assembly cannot sit in a package that uses cgo (the model
// package does with -tags openblas).
package vecadam

// Step applies Adam to the first len(p)&^3 elements of p, eight lanes at a time with
// AVX2 where the CPU and OS support it, else four with SSE (part of every amd64 CPU), and
// returns how many it did; the caller's scalar loop does the rest. The lanes do exactly the scalar loop's float32 operations in its order, so the
// result is bit-identical:
//
//	m[i] = b1*m[i] + c1*g[i]
//	v[i] = b2*v[i] + (c2*g[i])*g[i]
//	p[i] -= (step*m[i]) / (sqrt(v[i]) + eps)
//
// with k = {b1, c1, b2, c2, step, eps}. g, m and v must be at least len(p) long. Off
// amd64 it does nothing and returns 0.
func Step(p, g, m, v []float32, k *[6]float32) int {
	n := len(p) &^ 3
	if n == 0 || len(g) < n || len(m) < n || len(v) < n {
		return 0
	}
	return step(p[:n], g, m, v, k)
}
