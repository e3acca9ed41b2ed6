package pipeline

import (
	"bytes"
	"compress/gzip"
	"testing"
)

func assertSamplesEqual(t *testing.T, want, got []Sample) {
	t.Helper()
	if err := DiffSamples(want, got); err != nil {
		t.Fatal(err)
	}
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

func f32Bytes(v []float32) []byte { return appendF32(make([]byte, 0, 4*len(v)), v) }
