package serve

import (
	"fmt"
	"math"
)

// nonFinite finds the first prediction that is not a finite number and says which input
// caused it: values each in range can still overflow inside the network (an embedding
// value of 3e38), and an answer of null would pass for a result. The input named is the
// case's value of largest magnitude.
func nonFinite(lm *loadedModel, req *request, preds [][]float32) (msg string, bad bool) {
	for i, p := range preds {
		for a, v := range p {
			if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
				continue
			}
			field, val, ok := largestInput(lm, req, i)
			if !ok {
				return fmt.Sprintf("%s: the prediction of %s is not a finite number", req.label(i), lm.layout.Analytes[a]), true
			}
			return fmt.Sprintf("%s: %v makes the prediction of %s overflow; expected values nearer the training data",
				req.field(i, field), val, lm.layout.Analytes[a]), true
		}
	}
	return "", false
}

// largestInput names sample i's input value of largest magnitude, as a field of the case
// (pre.ph, prescriptions[1].dose, prescriptions[0].embedding[3]).
func largestInput(lm *loadedModel, req *request, i int) (field string, val float32, ok bool) {
	s := &req.samples[i]
	best, kind, at := -1.0, 0, 0
	consider := func(v float32, k, j int) {
		if m := math.Abs(float64(v)); m > best { // NaN (a missing dose) never wins
			best, kind, at, val = m, k, j, v
		}
	}
	for a, obs := range s.PreObserved {
		if obs {
			consider(s.Pre[a], 1, a)
		}
	}
	for j, d := range s.Doses {
		consider(d, 2, j)
	}
	dim := max(1, lm.layout.EmbeddingDim)
	for r, row := range s.Embeddings {
		for k, e := range row {
			consider(e, 3, r*dim+k)
		}
	}
	switch kind {
	case 1:
		return "pre." + lm.layout.Analytes[at], val, true
	case 2:
		return fmt.Sprintf("prescriptions[%d].dose", at), val, true
	case 3:
		return fmt.Sprintf("prescriptions[%d].embedding[%d]", at/dim, at%dim), val, true
	}
	return "", 0, false
}
