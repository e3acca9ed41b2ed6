package serve

// The CSV body parser lives here rather than in pipeline because pipeline's readers work
// on named files and whole tables (scalers, splits, manifests); an invocation needs the
// same row format read from a request body against an already trained model's layout.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// Column names of the final-table format (one row per prescription), with the aliases
// pipeline's reader accepts; headers compare case-insensitively, as there.
var (
	colSubject = []string{"subject_id", "subject"}
	colStart   = []string{"prescription_start", "starttime", "start_time", "startdate"}
	colDose    = []string{"prescription_dose_val_rx", "dose_val_rx", "dose"}
	colUnit    = []string{"prescription_dose_unit_rx", "dose_unit_rx", "unit"}
	colDrug    = []string{"prescription_drug", "drug"}
)

var embeddingCol = regexp.MustCompile(`^p(0|[1-9][0-9]*)$`)

// csvLayout maps a request's header onto the model's layout.
type csvLayout struct {
	names                      []string
	subject, start, dose, unit int   // -1 when absent (all but dose may be)
	drug, embStr               int   // -1 when absent
	emb                        []int // column of P0..P{dim-1}, nil when absent
	pre                        []int // column per model analyte, -1 when absent
	// sentinel is true where the format writes missing values as -1 (embedding columns
	// or an embedding string), false for raw tables with drug names (empty = missing).
	sentinel bool
}

// parseCSV reads rows in the final-table format and groups them into samples by
// (subject_id, date of prescription_start), in order of first appearance, the way
// pipeline's reader groups training tables. Without subject_id every row is its own
// sample, as in the original's id-less tables.
//
// Columns: subject_id and prescription_start (optional, together); the dose
// (prescription_dose_val_rx: a number, a range "325-650" read as its midpoint, or empty
// for missing) and its unit (prescription_dose_unit_rx: text or numeric code); the drug as
// embedding columns P0..P{dim-1}, one embedding string column ("[0.1 -0.2 ...]", any
// column whose name contains "embedding"), or a prescription_drug name; pre_<analyte>
// for analytes the model knows (any may be absent). post_* columns and the chart times
// are ignored, so a training table can be sent as it is. Empty cells are missing; with
// embeddings given as numbers, -1 is missing too, as in training. Any other column is
// rejected so a misspelt analyte cannot be ignored silently.
func parseCSV(body []byte, lm *loadedModel) (*request, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(body))
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty body; expected a CSV header and at least one row")
	}
	if err != nil {
		return nil, csvError(err)
	}
	cl, err := mapHeader(header, lm)
	if err != nil {
		return nil, err
	}

	req := &request{csv: true}
	groups := map[[2]string]int{} // (subject, start date) -> sample index
	firstLine := map[int]int{}    // sample index -> line of its first row
	rows := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		rows++
		line, _ := r.FieldPos(0)
		subject, start := "row"+strconv.Itoa(rows), ""
		if cl.subject >= 0 {
			subject = strings.TrimSpace(rec[cl.subject])
			if subject == "" {
				return nil, fmt.Errorf("line %d, column %s: empty; expected a subject id", line, cl.names[cl.subject])
			}
			if start, err = parseDate(rec[cl.start]); err != nil {
				return nil, fmt.Errorf("line %d, column %s: %w", line, cl.names[cl.start], err)
			}
		}
		key := [2]string{subject, start}
		idx, seen := groups[key]
		if !seen {
			idx = len(req.samples)
			groups[key] = idx
			firstLine[idx] = line
			s := newSample(len(lm.layout.Analytes), subject)
			s.Start = start
			req.samples = append(req.samples, s)
			req.ids = append(req.ids, subject)
			req.starts = append(req.starts, start)
		}
		s := &req.samples[idx]
		if err := readPre(rec, cl, lm, s, !seen, line, firstLine[idx]); err != nil {
			return nil, err
		}
		if s.NumRx() >= lm.maxRx {
			return nil, fmt.Errorf("line %d: group (%s, %s) has more than %d prescriptions; the model takes at most %d",
				line, subject, start, lm.maxRx, lm.maxRx)
		}
		if err := readRx(rec, cl, lm, s, line); err != nil {
			return nil, err
		}
	}
	if rows == 0 {
		return nil, errors.New("no rows after the header; expected at least one prescription row")
	}
	return req, nil
}

func mapHeader(header []string, lm *loadedModel) (*csvLayout, error) {
	dim := lm.layout.EmbeddingDim
	cl := &csvLayout{names: make([]string, len(header)), subject: -1, start: -1, dose: -1, unit: -1, drug: -1, embStr: -1,
		pre: make([]int, len(lm.layout.Analytes))}
	for i := range cl.pre {
		cl.pre[i] = -1
	}
	emb := make([]int, dim)
	for i := range emb {
		emb[i] = -1
	}
	nEmb := 0
	seen := map[string]bool{}
	set := func(dst *int, i int, name string) error {
		if *dst >= 0 {
			return fmt.Errorf("header: columns %s and %s mean the same; expected one of them", cl.names[*dst], name)
		}
		*dst = i
		return nil
	}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		cl.names[i] = name
		if name == "" {
			return nil, fmt.Errorf("header: column %d has no name", i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("header: duplicate column %q", name)
		}
		seen[name] = true
		var err error
		switch {
		case slices.Contains(colSubject, name):
			err = set(&cl.subject, i, name)
		case slices.Contains(colStart, name):
			err = set(&cl.start, i, name)
		case slices.Contains(colDose, name):
			err = set(&cl.dose, i, name)
		case slices.Contains(colUnit, name):
			err = set(&cl.unit, i, name)
		case slices.Contains(colDrug, name):
			err = set(&cl.drug, i, name)
		case strings.Contains(name, "embedding"):
			err = set(&cl.embStr, i, name)
		case strings.HasSuffix(name, "time"), strings.HasPrefix(name, "post_"):
			// chart times and targets are not inputs
		case strings.HasPrefix(name, "pre_"):
			a := strings.TrimPrefix(name, "pre_")
			idx, ok := lm.index[a]
			if !ok {
				return nil, fmt.Errorf("header: column %s names unknown analyte %q; the model knows %s",
					name, a, strings.Join(lm.layout.Analytes, ", "))
			}
			cl.pre[idx] = i
		case embeddingCol.MatchString(name):
			k, _ := strconv.Atoi(name[1:])
			if k >= dim {
				return nil, fmt.Errorf("header: embedding column %s beyond the model's %d dimensions (P0..P%d)", h, dim, dim-1)
			}
			emb[k] = i
			nEmb++
		default:
			return nil, fmt.Errorf("header: unknown column %q; expected subject_id, prescription_start, prescription_dose_val_rx, prescription_dose_unit_rx, pre_<analyte>, post_<analyte>, P0..P%d, an embedding column or prescription_drug",
				h, dim-1)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case cl.dose < 0:
		return nil, errors.New("header: missing column prescription_dose_val_rx")
	case cl.subject >= 0 && cl.start < 0:
		return nil, errors.New("header: missing column prescription_start beside subject_id")
	}
	sources := 0
	if nEmb > 0 {
		sources++
		for k, c := range emb {
			if c < 0 {
				return nil, fmt.Errorf("header: missing embedding column P%d; expected P0..P%d", k, dim-1)
			}
		}
		cl.emb = emb
	}
	if cl.embStr >= 0 {
		sources++
	}
	if cl.drug >= 0 {
		sources++
	}
	switch {
	case sources == 0:
		return nil, fmt.Errorf("header: no drug columns; expected P0..P%d, an embedding column or prescription_drug", dim-1)
	case sources > 1:
		return nil, fmt.Errorf("header: more than one drug source; expected only one of P0..P%d, an embedding column, prescription_drug", dim-1)
	}
	cl.sentinel = cl.drug < 0
	return cl, nil
}

// readPre reads the pre-treatment values; every row of a group must repeat its first
// row's values (they are one blood test), so a disagreement is a malformed request.
func readPre(rec []string, cl *csvLayout, lm *loadedModel, s *pipeline.Sample, first bool, line, groupLine int) error {
	for a, c := range cl.pre {
		if c < 0 {
			continue
		}
		col := cl.names[c]
		v, present, err := parseCell(rec[c], cl.sentinel)
		if err != nil {
			return fmt.Errorf("line %d, column %s: %w", line, col, err)
		}
		if first {
			s.Pre[a], s.PreObserved[a] = v, present
			continue
		}
		if present != s.PreObserved[a] || (present && v != s.Pre[a]) {
			return fmt.Errorf("line %d, column %s: %q differs from line %d of the same group; expected one pre-treatment test per group",
				line, col, rec[c], groupLine)
		}
	}
	return nil
}

func readRx(rec []string, cl *csvLayout, lm *loadedModel, s *pipeline.Sample, line int) error {
	dim := lm.layout.EmbeddingDim
	var emb []float32
	switch {
	case cl.emb != nil:
		emb = make([]float32, dim)
		for k, c := range cl.emb {
			v, err := parseFloat32(rec[c])
			if err != nil {
				return fmt.Errorf("line %d, column %s: %w", line, cl.names[c], err)
			}
			emb[k] = v
		}
	case cl.embStr >= 0:
		var err error
		if emb, err = pipeline.ParseEmbedding(rec[cl.embStr]); err != nil {
			return fmt.Errorf("line %d, column %s: %w", line, cl.names[cl.embStr], err)
		}
		if len(emb) != dim {
			return fmt.Errorf("line %d, column %s: %d values; expected %d", line, cl.names[cl.embStr], len(emb), dim)
		}
	default:
		name := strings.TrimSpace(rec[cl.drug])
		if name == "" {
			return fmt.Errorf("line %d, column %s: empty; expected a drug name", line, cl.names[cl.drug])
		}
		var err error
		if emb, err = embedDrug(lm, name); err != nil {
			return fmt.Errorf("line %d, column %s: %w", line, cl.names[cl.drug], err)
		}
	}
	dose, err := parseDose(rec[cl.dose])
	if err != nil {
		return fmt.Errorf("line %d, column %s: %w", line, cl.names[cl.dose], err)
	}
	unit := ""
	if cl.unit >= 0 {
		unit = normalizeUnit(rec[cl.unit])
	}
	if err := checkUnit(lm, unit); err != nil {
		col := "prescription_dose_unit_rx"
		if cl.unit >= 0 {
			col = cl.names[cl.unit]
		}
		return fmt.Errorf("line %d, column %s: %w", line, col, err)
	}
	s.Embeddings = append(s.Embeddings, emb...)
	s.Doses = append(s.Doses, dose)
	s.Units = append(s.Units, unit)
	return nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("line %d: wrong number of fields; expected as many as the header", pe.Line)
		}
		return fmt.Errorf("line %d, column %d: malformed CSV: %v", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("malformed CSV: %v", err)
}
