package pipeline

import (
	"encoding/binary"
	"math"
	"slices"
)

// EmbeddingRows splits flat, row-major embedding values into rows of dim values (views of
// flat, not copies): the form Sample.Embeddings takes. A flat length that is not a
// multiple of dim leaves the remainder as a short last row, for the shape checks to report.
func EmbeddingRows(flat []float32, dim int) [][]float32 {
	if dim <= 0 {
		return nil
	}
	rows := make([][]float32, 0, (len(flat)+dim-1)/dim)
	for lo := 0; lo < len(flat); lo += dim {
		hi := min(lo+dim, len(flat))
		rows = append(rows, flat[lo:hi:hi])
	}
	return rows
}

// rowsOf reports whether every row has dim values.
func rowsOf(rows [][]float32, dim int) bool {
	for _, r := range rows {
		if len(r) != dim {
			return false
		}
	}
	return true
}

// maxSharedEmbeddings bounds an embeddingSet: past it (a table of free-text embeddings,
// every row different) rows are copied, not shared, so the set's keys cannot double the
// memory the rows take.
const maxSharedEmbeddings = 1 << 16

// embeddingSet hands out one shared row per distinct embedding (compared bit for bit), so
// a million samples of a few hundred drugs hold a few hundred embeddings, not one per
// prescription row. Shared rows are read-only.
type embeddingSet struct {
	rows map[string][]float32
	key  []byte
}

// share returns a row equal to v that the caller must not modify; v is not retained.
func (e *embeddingSet) share(v []float32) []float32 {
	e.key = e.key[:0]
	for _, x := range v {
		e.key = binary.LittleEndian.AppendUint32(e.key, math.Float32bits(x))
	}
	if r, ok := e.rows[string(e.key)]; ok {
		return r
	}
	r := slices.Clone(v)
	if r == nil {
		r = []float32{}
	}
	if len(e.rows) < maxSharedEmbeddings {
		if e.rows == nil {
			e.rows = map[string][]float32{}
		}
		e.rows[string(e.key)] = r
	}
	return r
}
