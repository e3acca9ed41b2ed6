package serve

import "bytes"

// Memory a request holds beyond its body, charged once its body is read and before
// it is decoded: a body of many tiny cases holds far more in samples, predictions
// and answer than bodyCostFactor times its size (290,000 cases of 20 bytes: 46 MB
// charged, 910 MB used).
const (
	// caseBytes is one case without its prescriptions: the Sample's six slices and two
	// strings, the echoed id and start, the prediction slice; per analyte, the
	// pre/post values and flags (10 bytes), the prediction (4) and the answer's
	// "name":value (about 24). Doubled for allocation rounding and garbage not yet
	// collected.
	caseBytes        = 2 * 400
	caseAnalyteBytes = 2 * 38
	// rxBytes is one prescription beyond its embedding: dose, unit and slice growth.
	rxBytes = 2 * 32
)

// requestCost is what the cases in body will hold: cases and prescriptions are counted
// from the body's bytes without decoding it (an upper bound for JSON; CSV counts every
// row as a case with one prescription).
func requestCost(lm *loadedModel, mediaType string, body []byte) int64 {
	var cases, rx int64
	if mediaType == contentCSV {
		cases = int64(bytes.Count(body, []byte{'\n'})) + 1
		rx = cases
	} else {
		cases, rx = countJSONObjects(body)
	}
	a := int64(len(lm.layout.Analytes))
	emb := 2 * 4 * int64(lm.layout.EmbeddingDim) // the embedding and its scaled copy
	return cases*(caseBytes+a*caseAnalyteBytes) + rx*(rxBytes+emb)
}

// countJSONObjects counts, outside strings, the objects at the depth where cases lie
// (top level for JSON Lines or a bare case, 1 in an array of cases, 2 under "cases")
// and the objects in them (prescriptions, and "pre"), which bound the prescriptions.
func countJSONObjects(body []byte) (cases, inner int64) {
	var byDepth [3]int64
	var total int64
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case '{':
			if depth < len(byDepth) {
				byDepth[depth]++
			}
			total++
			depth++
		case '[':
			depth++
		case '}', ']':
			depth = max(depth-1, 0)
		}
	}
	cases = max(byDepth[0], byDepth[1], byDepth[2], 1)
	return cases, max(total-cases, 0)
}
