package pipeline

import (
	"bytes"
	"compress/gzip"
	"math"
	"slices"
	"testing"
)

func assertSamplesEqual(t *testing.T, want, got []Sample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := &want[i], &got[i]
		if w.Subject != g.Subject || w.Start != g.Start {
			t.Fatalf("sample %d is %s/%s, want %s/%s", i, g.Subject, g.Start, w.Subject, w.Start)
		}
		if !equalF32(w.Pre, g.Pre, w.PreObserved) || !equalF32(w.Post, g.Post, w.PostObserved) ||
			!equalBools(w.PreObserved, g.PreObserved) || !equalBools(w.PostObserved, g.PostObserved) {
			t.Fatalf("sample %d (%s/%s): pre/post differ", i, w.Subject, w.Start)
		}
		if !equalF32(w.Embeddings, g.Embeddings, nil) || !equalF32(w.Doses, g.Doses, nil) || !slices.Equal(w.Units, g.Units) {
			t.Fatalf("sample %d (%s/%s): prescriptions differ", i, w.Subject, w.Start)
		}
	}
}

// equalF32 compares exactly (NaN equals NaN), only where mask is true when mask is given.
func equalF32(a, b []float32, mask []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if mask != nil && !mask[i] {
			continue
		}
		if a[i] != b[i] && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
			return false
		}
	}
	return true
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}
