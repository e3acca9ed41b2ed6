package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/blueblood/blueblood/pipeline"
)

// parseJSONLines reads application/jsonlines: one case object per line, the way batch
// transform sends records with SplitType Line (several lines per request with
// BatchStrategy MultiRecord). A line holds what a bare JSON case holds; an empty line
// other than at the end is an error, so answers stay line for line.
func parseJSONLines(body []byte, lm *loadedModel) (*request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty body; expected one JSON case per line")
	}
	n := bytes.Count(bytes.TrimRight(body, " \t\r\n"), []byte{'\n'}) + 1
	req := &request{lines: true, samples: make([]pipeline.Sample, 0, n), ids: make([]string, 0, n)}
	rest := body
	for line := 1; len(bytes.TrimSpace(rest)) > 0; line++ {
		var text []byte
		text, rest, _ = bytes.Cut(rest, []byte{'\n'})
		text = bytes.TrimSpace(text)
		c, err := lineCase(text)
		if err == nil {
			req.samples = append(req.samples, pipeline.Sample{})
			err = buildSample(&c, "", lm, &req.samples[len(req.samples)-1])
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		req.ids = append(req.ids, c.ID)
	}
	req.starts = make([]string, len(req.samples))
	return req, nil
}

// lineCase decodes one line's case.
func lineCase(text []byte) (caseT, error) {
	var c caseT
	switch {
	case len(text) == 0:
		return c, errors.New("empty; expected a JSON case object")
	case text[0] != '{':
		return c, fmt.Errorf("expected a JSON case object, got %s", describeJSON(text))
	}
	if err := strictDecode(text, &c); err != nil {
		if errors.Is(err, errTrailingData) {
			return c, errors.New("unexpected data after the case; expected one JSON case per line")
		}
		if err := diagnoseCase(text, ""); err != nil {
			return c, err
		}
		return c, errors.New("malformed JSON: expected one case object")
	}
	return c, nil
}

// writeJSONLines answers one line per case, in request order: {"id":...,"post":{...}}.
func writeJSONLines(w io.Writer, lm *loadedModel, req *request, preds [][]float32) error {
	bw := bufio.NewWriter(w)
	for i, p := range preds {
		b, err := json.Marshal(Prediction{ID: req.ids[i], Post: Values{Names: lm.layout.Analytes, Vals: p}})
		if err != nil {
			return err
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
