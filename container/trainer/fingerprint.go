package trainer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/blueblood/blueblood/pipeline"
)

// dataFingerprint is the SHA-256 of the samples a run trains and validates on,
// stored in its checkpoints: a resume on other data with the same scaler and
// sample count would otherwise continue silently.
func dataFingerprint(sets ...[]pipeline.Sample) string {
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(s)))
		buf = append(buf, s...)
	}
	f32 := func(v []float32) {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(v)))
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	bools := func(v []bool) {
		for _, b := range v {
			if b {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		}
	}
	for _, set := range sets {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(set)))
		h.Write(buf)
		for i := range set {
			s := &set[i]
			buf = buf[:0]
			str(s.Subject)
			str(s.Start)
			f32(s.Pre)
			bools(s.PreObserved)
			f32(s.Post)
			bools(s.PostObserved)
			for _, e := range s.Embeddings {
				f32(e)
			}
			f32(s.Doses)
			for _, u := range s.Units {
				str(u)
			}
			h.Write(buf)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
