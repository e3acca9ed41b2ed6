package serve

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/container/serve/inputheader"
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
	first := firstRecord(body)
	headerless := lm.trainHeader != "" && !namesAColumn(first, lm.trainNames)
	header := first
	if headerless {
		r = io.MultiReader(strings.NewReader(lm.trainHeader), r)
		header = lm.trainFields
	} else if err := noHeader(first, lm); err != nil {
		return nil, err
	}
	if err := sameDrugs(header, lm); err != nil {
		return nil, err
	}
	ds, _, err := pipeline.ReadTable(ctx, "body", r, lm.csvOptions)
	if err != nil {
		if headerless {
			return nil, headerlessError(err, len(lm.trainNames))
		}
		return nil, err
	}
	req := &request{csv: true, samples: ds.Samples, ids: make([]string, len(ds.Samples)), starts: make([]string, len(ds.Samples)),
		rowSamples: ds.RowSamples, csvHeader: !headerless}
	for i := range ds.Samples {
		req.ids[i], req.starts[i] = ds.Samples[i].Subject, ds.Samples[i].Start
	}
	return req, nil
}

// noHeader refuses a body whose first line is a data row when the model does not know
// its training table's column order: the reader would take the row for a header and fail
// on a value as a column name.
func noHeader(first []string, lm *loadedModel) error {
	for i, c := range first {
		if _, err := strconv.ParseFloat(strings.TrimSpace(c), 64); err == nil || strings.TrimSpace(c) == "" {
			return fmt.Errorf("body:1:%d: no header line (column %d holds %q, a value, not a column name); this model does not store its training table's column order (%s), so a CSV body must start with the header line naming its columns (subject_id, prescription_start, pre_<analyte>..., the drug or P0..P%d, dose and unit), or send %s",
				i+1, i+1, c, inputheader.File, lm.layout.EmbeddingDim-1, contentJSONLines)
		}
	}
	return nil
}

// sameDrugs refuses rows that give drugs another way than the model's training table:
// names go through the built-in text embedder, whose vectors a model trained on P0..Pn
// embeddings never saw, and the other way round.
func sameDrugs(header []string, lm *loadedModel) error {
	if lm.drugs == "" {
		return nil
	}
	got, err := pipeline.DrugsIn(header)
	if err != nil {
		return nil // the reader reports the header's own error
	}
	if embedded(got) != embedded(lm.drugs) {
		return fmt.Errorf("body:1: the rows give %s, but this model was trained on %s; %s", got, lm.drugs, drugAdvice(lm))
	}
	return nil
}

// embedded reports whether a way of giving drugs (pipeline.DrugsIn) is an embedding.
func embedded(drugs string) bool { return drugs != pipeline.DrugsNames }

// drugAdvice says what to send a model trained on lm.drugs.
func drugAdvice(lm *loadedModel) string {
	if embedded(lm.drugs) {
		return fmt.Sprintf("send each drug's embedding (%d values from the embedder the training table used)", lm.layout.EmbeddingDim)
	}
	return "send drug names, which the model embeds as it did in training"
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

// firstRecord is the body's first CSV record; nil when it is not a clean record (the
// reader then reports it, as for any body).
func firstRecord(body []byte) []string {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil
	}
	return rec
}

// namesAColumn reports whether the body's first record holds a column name of the
// training table: a header line. Data rows hold numbers, dates, units and drug names.
func namesAColumn(first []string, names map[string]bool) bool {
	if first == nil {
		return true // not a clean record: the reader reports it
	}
	for _, c := range first {
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
		RowSamples:          true, // batch transform answers every row
	}}
}
