package pipeline

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// DefaultEmbeddingDim is the embedding width of the original project's tables (P0..P127).
const DefaultEmbeddingDim = 128

// EmbedName embeds a raw drug name at width dim as a read does: with EmbedDrug (a vector
// of another width is an error) or else EmbedText. Callers trim the name.
func (o *RequestOptions) EmbedName(name string, dim int) ([]float32, error) {
	if o.EmbedDrug == nil {
		return EmbedText(name, dim), nil
	}
	emb, err := o.EmbedDrug(name)
	if err == nil && len(emb) != dim {
		err = fmt.Errorf("embedder returned %d values; expected %d", len(emb), dim)
	}
	return emb, err
}

// EmbedText embeds a raw drug name deterministically, so raw tables need no external
// model: the lowercased name, with runs of non-alphanumerics collapsed to one space and
// padded by spaces, contributes its character 3-, 4- and 5-grams and its words, each
// hashed (FNV-1a) to an index and a sign. The result is scaled to unit root-mean-square,
// matching the magnitude of the original's standardised embeddings. The same name always
// gives the same vector; similar names share n-grams and so lie close together. An empty
// name gives the zero vector. dim <= 0 means DefaultEmbeddingDim.
func EmbedText(name string, dim int) []float32 {
	if dim <= 0 {
		dim = DefaultEmbeddingDim
	}
	out := make([]float32, dim)
	norm := normalizeName(name)
	if norm == "" {
		return out
	}
	padded := " " + norm + " "
	acc := make([]float64, dim)
	add := func(gram []byte, weight float64) {
		h := fnv64a(gram)
		idx := int(h % uint64(dim))
		sign := 1.0
		if (h>>63)&1 == 1 {
			sign = -1
		}
		acc[idx] += sign * weight
	}
	b := []byte(padded)
	for n := 3; n <= 5; n++ {
		for i := 0; i+n <= len(b); i++ {
			add(b[i:i+n], 1)
		}
	}
	for _, w := range strings.Fields(norm) {
		add(append([]byte("w:"), w...), 2)
	}
	var ss float64
	for _, v := range acc {
		ss += v * v
	}
	if ss == 0 {
		return out
	}
	scale := math.Sqrt(float64(dim) / ss)
	for i, v := range acc {
		out[i] = float32(v * scale)
	}
	return out
}

func normalizeName(s string) string {
	var sb strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			space = false
			sb.WriteRune(r)
		} else {
			space = true
		}
	}
	return sb.String()
}

func fnv64a(s []byte) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}
