package pipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// schema is what a header tells about a table.
type schema struct {
	format                    tableFormat // the built-in format the header is in
	file                      string
	ncol                      int
	names                     []string
	subject, start, dose      int
	unit, drug, embStr, chart int
	analytes                  []string
	pre, post                 []int // column per analyte
	values                    []int // blood table: column per analyte
	emb                       []int // P0..Pn columns
	sentinel                  bool  // -1.0 exactly means missing
	preChart, postChart       int   // final tables: the pre and post tests' times, -1 if absent
	found                     int   // pre_ columns found
}

var pColumn = regexp.MustCompile(`^p([0-9]+)$`)

// idColumns are identifiers that are neither analytes nor features in blood tables.
var idColumns = map[string]bool{"hadm_id": true, "icustay_id": true, "stay_id": true, "row_id": true}

func findCol(idx map[string]int, names ...string) int {
	for _, n := range names {
		if i, ok := idx[n]; ok {
			return i
		}
	}
	return -1
}

// parseHeader reads what a table's header says: its columns, its kind (final,
// prescriptions or blood tests) and where each value is.
func parseHeader(file string, header []string, opt *ReadOptions) (*schema, error) {
	s := &schema{file: file, ncol: len(header), names: make([]string, len(header))}
	idx, err := s.columnNames(header)
	if err != nil {
		return nil, err
	}
	s.subject = findCol(idx, "subject_id", "subject")
	s.start = findCol(idx, "prescription_start", "starttime", "start_time", "startdate")
	s.dose = findCol(idx, "prescription_dose_val_rx", "dose_val_rx", "dose")
	s.unit = findCol(idx, "prescription_dose_unit_rx", "dose_unit_rx", "unit")
	s.drug = findCol(idx, "prescription_drug", "drug")
	s.chart = findCol(idx, "charttime")
	s.preChart, s.postChart = findCol(idx, "pre_charttime"), findCol(idx, "post_charttime")
	if err := s.drugColumns(); err != nil {
		return nil, err
	}
	found, err := s.analyteColumns(opt)
	if err != nil {
		return nil, err
	}
	s.found = found
	if err := s.classify(opt); err != nil {
		return nil, err
	}
	return s, nil
}

// columnNames normalises the header's names (case, spaces, a byte-order mark) into
// s.names and indexes them; empty and repeated names are errors.
func (s *schema) columnNames(header []string) (map[string]int, error) {
	file := s.file
	idx := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		s.names[i] = h
		if h == "" {
			return nil, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed, Reason: "empty column name in header"}
		}
		if j, dup := idx[h]; dup {
			return nil, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed, Reason: fmt.Sprintf("duplicate column %q (first at column %d)", h, j+1)}
		}
		idx[h] = i
	}
	return idx, nil
}

// drugColumns finds the drug's embedding: one embedding string column, or P0..Pn.
func (s *schema) drugColumns() error {
	file := s.file
	s.embStr = -1
	for i, h := range s.names {
		if strings.Contains(h, "embedding") {
			if s.embStr >= 0 {
				return &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed, Reason: fmt.Sprintf("second embedding string column %q; expected one", h)}
			}
			s.embStr = i
		}
	}
	// P0..Pn must be complete and contiguous
	pcols := map[int]int{}
	for i, h := range s.names {
		if m := pColumn.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			pcols[n] = i
		}
	}
	for n := 0; n < len(pcols); n++ {
		i, ok := pcols[n]
		if !ok {
			return &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: fmt.Sprintf("embedding columns P0..P%d expected, P%d missing", len(pcols)-1, n)}
		}
		s.emb = append(s.emb, i)
	}
	return nil
}

// analyteColumns pairs pre_<analyte> with post_<analyte> columns (their *time columns
// excluded) in table order, or in opt.Request.Layout's order when a layout is given, and
// returns how many pre_ columns it found.
func (s *schema) analyteColumns(opt *ReadOptions) (int, error) {
	file := s.file
	// pre_/post_ analytes, timestamps excluded
	postIdx := map[string]int{}
	for i, h := range s.names {
		if a, ok := strings.CutPrefix(h, "post_"); ok && !strings.HasSuffix(a, "time") {
			postIdx[a] = i
		}
	}
	var pos map[string]int // analyte -> position in opt.Request.Layout
	if opt.Request.Layout != nil {
		s.analytes = opt.Request.Layout.Analytes
		s.pre, s.post = make([]int, len(s.analytes)), make([]int, len(s.analytes))
		pos = make(map[string]int, len(s.analytes))
		for k, a := range s.analytes {
			s.pre[k], s.post[k], pos[a] = -1, -1, k
		}
	}
	found := 0
	for i, h := range s.names {
		a, ok := strings.CutPrefix(h, "pre_")
		if !ok || strings.HasSuffix(a, "time") {
			continue
		}
		j, ok := postIdx[a]
		if !ok {
			if !opt.Request.AllowMissingTargets {
				return 0, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed, Reason: fmt.Sprintf("column pre_%s has no matching post_%s", a, a)}
			}
			j = -1
		}
		delete(postIdx, a)
		found++
		if pos == nil {
			s.analytes = append(s.analytes, a)
			s.pre = append(s.pre, i)
			s.post = append(s.post, j)
			continue
		}
		k, ok := pos[a]
		if !ok {
			return 0, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed,
				Reason: fmt.Sprintf("column %s names unknown analyte %q; expected one of %s", h, a, strings.Join(s.analytes, ", "))}
		}
		s.pre[k], s.post[k] = i, j
	}
	for a, j := range postIdx {
		return 0, &RowError{File: file, Line: 1, Column: j + 1, Class: ClassMalformed, Reason: fmt.Sprintf("column post_%s has no matching pre_%s", a, a)}
	}
	return found, nil
}

// adoptAnalytes checks a table's analytes against earlier tables.
func (rd *tableReader) adoptAnalytes(s *schema) error {
	if len(s.analytes) > 0 {
		if !rd.hasAnal {
			rd.layout.Analytes = append([]string(nil), s.analytes...)
			rd.hasAnal, rd.anFrom = true, s.file
		} else if !slices.Equal(rd.layout.Analytes, s.analytes) {
			from := rd.anFrom
			if from == "" {
				from = "the given layout"
			}
			return fmt.Errorf("%s:1:1: analytes %v differ from %v in %s", s.file, s.analytes, rd.layout.Analytes, from)
		}
	}
	return nil
}

// adoptDim checks the width of a table's drug embeddings against earlier tables.
func (rd *tableReader) adoptDim(s *schema) error {
	dim := 0
	switch {
	case len(s.emb) > 0:
		dim = len(s.emb)
	case s.embStr >= 0:
		dim = rd.opt.EmbeddingDim // 0: learnt from the first row
	default:
		dim = rd.opt.EmbeddingDim
		if dim <= 0 {
			dim = DefaultEmbeddingDim
		}
	}
	if dim > 0 {
		return rd.setDim(dim, s.file, 1, 1)
	}
	return nil
}

func (rd *tableReader) setDim(dim int, file string, line, col int) error {
	if !rd.dimSet {
		rd.layout.EmbeddingDim = dim
		rd.dimSet = true
		rd.dimFrom = file
		return nil
	}
	if rd.layout.EmbeddingDim != dim {
		return fmt.Errorf("%s:%d:%d: embedding width %d differs from %d in %s", file, line, col, dim, rd.layout.EmbeddingDim, rd.dimFrom)
	}
	return nil
}
