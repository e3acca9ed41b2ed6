package serve

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// parseCSV reads a body in the final-table format with pipeline's table reader, so a row
// sent to the endpoint means what the same row meant in training (aliases, -1 as missing
// only beside embeddings, dose ranges as midpoints, unit codes, groups by subject and date
// of prescription_start). The reader is set to the model: its analytes (any may be
// absent), its embedding width, its embedder and unit vocabulary, its prescription
// limit, no targets needed, and unknown columns or disagreeing group rows as errors.
// Errors name the body's line and column (body:line:col).
//
// A body whose first line names none of the training table's columns is rows without a
// header (batch transform with SplitType Line, the Python SDK's CSVSerializer); when the
// model knows its training table's header, the body is read as rows of that table.
func parseCSV(ctx context.Context, body []byte, lm *loadedModel) (*request, error) {
	var r io.Reader = bytes.NewReader(body)
	headerless := lm.trainHeader != "" && !namesAColumn(body, lm.trainNames)
	if headerless {
		r = io.MultiReader(strings.NewReader(lm.trainHeader), r)
	}
	ds, _, err := pipeline.ReadTable(ctx, "body", r, lm.csvOptions)
	if err != nil {
		if headerless {
			return nil, headerlessError(err, len(lm.trainNames))
		}
		return nil, err
	}
	req := &request{csv: true, samples: ds.Samples, ids: make([]string, len(ds.Samples)), starts: make([]string, len(ds.Samples))}
	for i := range ds.Samples {
		req.ids[i], req.starts[i] = ds.Samples[i].Subject, ds.Samples[i].Start
	}
	return req, nil
}

// trainingHeader returns the header line to put before header-less bodies and the set of
// its normalised names (as pipeline compares them: trimmed, lower case, no BOM).
func trainingHeader(header []string) (line string, names map[string]bool) {
	if len(header) == 0 {
		return "", nil
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(header)
	w.Flush()
	names = make(map[string]bool, len(header))
	for _, h := range header {
		names[normName(h)] = true
	}
	return b.String(), names
}

func normName(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

// namesAColumn reports whether the body's first record holds a column name of the
// training table: a header line. Data rows hold numbers, dates, units and drug names.
func namesAColumn(body []byte, names map[string]bool) bool {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return true // not a clean record: the reader reports it, as for any body
	}
	for _, c := range rec {
		if names[normName(c)] {
			return true
		}
	}
	return false
}

var lineRef = regexp.MustCompile(`line ([0-9]+)`)

// headerlessError states a header-less body's error in the body's own line numbers
// (the reader counted the training header as line 1).
func headerlessError(err error, columns int) error {
	var re *pipeline.RowError
	if !errors.As(err, &re) {
		return err
	}
	re.Line--
	re.Reason = lineRef.ReplaceAllStringFunc(re.Reason, func(m string) string {
		var n int
		fmt.Sscanf(m, "line %d", &n)
		return fmt.Sprintf("line %d", n-1)
	})
	if re.Class == pipeline.ClassColumnCount {
		re.Reason += fmt.Sprintf(" (a body without a header line has the %d columns of the model's training table)", columns)
	}
	return err
}

// csvOptions are the reader options for lm's requests.
func csvOptions(lm *loadedModel) pipeline.ReadOptions {
	return pipeline.ReadOptions{Request: pipeline.RequestOptions{
		Layout:              &lm.layout,
		AllowMissingTargets: true,
		Strict:              true,
		MaxGroupRows:        lm.maxRx,
		EmbedDrug:           lm.m.EmbedDrug,
		CheckUnit:           func(u string) error { return checkUnit(lm, u) },
	}}
}
