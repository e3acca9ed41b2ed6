package serve

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// Response is the JSON answer to an invocation.
type Response struct {
	ModelVersion string       `json:"model_version"`
	Analytes     []string     `json:"analytes"`
	Predictions  []Prediction `json:"predictions"`
}

// Prediction is one case's answer: the predicted post-treatment values by analyte, in
// original units.
type Prediction struct {
	ID    string `json:"id,omitempty"`
	Start string `json:"start,omitempty"`
	Post  Values `json:"post"`
	// Effects, when the request asked for them, says what each prescription row does.
	Effects []RowEffect `json:"effects,omitempty"`
}

// Values holds one value per analyte. It encodes as a JSON object in the model's analyte
// order (a Go map would sort the keys) and float32 values in their shortest exact form,
// so decoding them as float32 gives back the model's values bit for bit.
type Values struct {
	Names []string
	Vals  []float32
}

// MarshalJSON writes {"name": value, ...}; a non-finite value is written as null.
func (v Values) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, name := range v.Names {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		b = append(b, k...)
		b = append(b, ':')
		b = appendFloat32(b, v.Vals[i])
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object form back (names in document order).
func (v *Values) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	v.Names, v.Vals = nil, nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var f *float32
		if err := dec.Decode(&f); err != nil {
			return err
		}
		val := float32(math.NaN())
		if f != nil {
			val = *f
		}
		v.Names = append(v.Names, t.(string))
		v.Vals = append(v.Vals, val)
	}
	_, err := dec.Token() // }
	return err
}

func appendFloat32(b []byte, f float32) []byte {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(f), 'g', -1, 32)
}

// prediction is case i's answer.
func prediction(lm *loadedModel, req *request, i int, p []float32) Prediction {
	pr := Prediction{ID: req.ids[i], Start: req.starts[i], Post: Values{Names: lm.layout.Analytes, Vals: p}}
	if i < len(req.explained) {
		pr.Effects = req.explained[i]
	}
	return pr
}

// jsonResponse is the whole answer in memory, for callers that want the value
// (serve.Explain); invocations stream it with writeJSONAnswer.
func jsonResponse(lm *loadedModel, req *request, preds [][]float32) Response {
	resp := Response{ModelVersion: lm.version, Analytes: lm.layout.Analytes, Predictions: make([]Prediction, len(preds))}
	for i, p := range preds {
		resp.Predictions[i] = prediction(lm, req, i, p)
	}
	return resp
}

// writeJSONAnswer writes the Response that json.Marshal would, one prediction at a
// time through a buffer, so a request of many cases never holds its whole answer, let
// alone json.Marshal's copy of it.
func writeJSONAnswer(w io.Writer, lm *loadedModel, req *request, preds [][]float32) error {
	head, err := json.Marshal(Response{ModelVersion: lm.version, Analytes: lm.layout.Analytes})
	if err != nil {
		return err
	}
	// head ends in "predictions":null}; the predictions follow in its place
	head = bytes.TrimSuffix(head, []byte("null}"))
	bw := bufio.NewWriter(w)
	bw.Write(head)
	bw.WriteByte('[')
	for i, p := range preds {
		if i > 0 {
			bw.WriteByte(',')
		}
		b, err := json.Marshal(prediction(lm, req, i, p))
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// writeCSV answers one row per group: subject_id, prescription_start, post_<analyte>...
// Non-finite values are written as empty cells (missing), as the readers expect.
func writeCSV(w io.Writer, lm *loadedModel, req *request, preds [][]float32) error {
	return writeAnswerCSV(w, lm, req, preds, true, nil)
}

// writeAnswerCSV writes the header line when header, then an answer row for each group
// in groups (a group may repeat); nil groups means each group once, in order.
func writeAnswerCSV(w io.Writer, lm *loadedModel, req *request, preds [][]float32, header bool, groups []int) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if header {
		if err := cw.Write(csvAnswerHeader(lm)); err != nil {
			return err
		}
	}
	var row []string
	write := func(g int) error {
		row = appendAnswerRow(row[:0], req.ids[g], req.starts[g], preds[g])
		return cw.Write(row)
	}
	if groups == nil {
		for g := range preds {
			if err := write(g); err != nil {
				return err
			}
		}
	} else {
		for _, g := range groups {
			if err := write(g); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvAnswerHeader is the header line of CSV answers.
func csvAnswerHeader(lm *loadedModel) []string {
	return append([]string{"subject_id", "prescription_start"}, lm.postCols...)
}

// appendAnswerRow appends one CSV answer row; a non-finite value is an empty cell.
func appendAnswerRow(row []string, id, start string, p []float32) []string {
	row = append(row, id, start)
	var num []byte
	for _, v := range p {
		num = appendFloat32(num[:0], v)
		if string(num) == "null" {
			row = append(row, "")
			continue
		}
		row = append(row, string(num))
	}
	return row
}
