package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ReadOptions configures ReadTables and the prepared-dataset readers and writers.
type ReadOptions struct {
	// MaxBadRows is how many bad rows may be skipped (and counted in the report); 0 means
	// the first bad row fails the read.
	MaxBadRows int
	// MaxGapDays bounds the distance between a prescription group and the blood tests
	// joined to it when prescriptions and blood tests come as separate tables; 0 = no limit.
	MaxGapDays float64
	// EmbeddingDim is the width of the built-in text embedder for raw drug names;
	// 0 means DefaultEmbeddingDim.
	EmbeddingDim int
	// S3 is the object store behind s3:// inputs and outputs (s3store.FromEnv or
	// s3store.New build one from the aws-sdk-go-v2 client); nil means s3:// locations
	// fail with a "no S3 client configured" error, so local-only callers link no SDK.
	S3 ObjectStore

	// The options below serve reading prediction requests against a trained model;
	// training leaves them unset, so its checks stay as strict as the tables need.

	// AllowMissingTargets lets a final table lack post_* columns (then every target is
	// unobserved), down to no analyte columns at all: any table without charttime is then
	// a final table, never a separate prescriptions table. Off, a pre_ column without its
	// post_ is an error, so a training table that lost its targets is not read as empty.
	AllowMissingTargets bool
	// Layout, when set, is the layout to read against instead of learning one: analyte
	// columns may be any subset of its analytes (absent ones unobserved, samples in its
	// order), a column naming another analyte is an error, and embeddings must have its
	// width. Drug names are embedded at that width, EmbeddingDim is ignored.
	Layout *Layout
	// Strict turns what training tolerates into errors: columns the format does not know,
	// more than one drug source, empty drug names, and rows whose pre/post values differ
	// from their group's first row.
	Strict bool
	// MaxGroupRows fails a group with more prescription rows; 0 means no limit.
	MaxGroupRows int
	// EmbedDrug embeds raw drug names (trimmed); nil means EmbedText.
	EmbedDrug func(name string) ([]float32, error)
	// CheckUnit vets each normalised dose unit ("" when missing), e.g. against a model's
	// vocabulary; nil accepts every unit.
	CheckUnit func(unit string) error
}

// Source is one input table as read: where from, its checksum and size (of the stored,
// possibly compressed bytes) and how many data rows it had.
type Source struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   int    `json:"rows"`
}

// Dataset is a set of samples with their shared layout and the tables they came from.
type Dataset struct {
	Layout  Layout   `json:"layout"`
	Samples []Sample `json:"-"`
	Sources []Source `json:"sources"`
}

// RowError is a bad cell or row: it names the file, line and column and says what was
// expected. Class groups errors for the report ("not a number", "wrong column count").
type RowError struct {
	File   string
	Line   int
	Column int // 1-based; 0 when the error concerns the whole row
	Field  string
	Class  string
	Reason string
}

func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%d: column %s: %s", e.File, e.Line, e.Column, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Reason)
}

// Error classes used in reports.
const (
	ClassMalformed   = "malformed csv"
	ClassColumnCount = "wrong column count"
	ClassNotNumber   = "not a number"
	ClassNotFinite   = "nan or inf"
	ClassEmbedding   = "bad embedding"
	ClassMissingID   = "missing id"
	ClassBadTime     = "bad time"
	// classes only Strict, MaxGroupRows and CheckUnit produce
	ClassMissingDrug  = "missing drug"
	ClassBadUnit      = "bad unit"
	ClassInconsistent = "inconsistent group"
	ClassGroupSize    = "group too large"
)

// maxKeptRejections bounds the rejected-row list kept in a report; counts stay exact.
const maxKeptRejections = 100

// AnalyteMissing is the share of samples in which an analyte was not observed.
type AnalyteMissing struct {
	Analyte string  `json:"analyte"`
	Pre     float64 `json:"pre_missing"`
	Post    float64 `json:"post_missing"`
}

// Report accounts for everything ReadTables saw and did.
type Report struct {
	Files         int            `json:"files"`
	RowsRead      int            `json:"rows_read"`
	RowsRejected  int            `json:"rows_rejected"`
	RejectReasons map[string]int `json:"reject_reasons,omitempty"`
	// Rejected lists the first rejected rows (up to 100) with their one-line errors.
	Rejected []string `json:"rejected,omitempty"`

	Groups        int `json:"groups"`
	Subjects      int `json:"subjects"`
	Prescriptions int `json:"prescriptions"`
	// LargestGroup is the most prescription rows in one group; GroupsOver20 counts groups
	// with more than 20 (the original model's block).
	LargestGroup int `json:"largest_group"`
	GroupsOver20 int `json:"groups_over_20"`

	// DoseRanges counts doses written as ranges ("325-650"), read as their midpoint;
	// MissingDoses counts empty doses; MissingDrugs counts empty drug names (zero embedding).
	DoseRanges   int `json:"dose_ranges"`
	MissingDoses int `json:"missing_doses"`
	MissingDrugs int `json:"missing_drugs"`
	// InconsistentGroups counts groups whose rows disagree on pre or post values; the
	// first row's values are used.
	InconsistentGroups int `json:"inconsistent_groups"`
	// Joined tables: groups dropped for lack of a pre or post test within the gap.
	GroupsWithoutPre  int `json:"groups_without_pre"`
	GroupsWithoutPost int `json:"groups_without_post"`

	MissingRate []AnalyteMissing `json:"missing_rate"`
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("files read:          %d\n", r.Files)
	ew.printf("rows read:           %d\n", r.RowsRead)
	ew.printf("rows rejected:       %d\n", r.RowsRejected)
	for _, k := range sortedKeys(r.RejectReasons) {
		ew.printf("  %-18s %d\n", k+":", r.RejectReasons[k])
	}
	for _, s := range r.Rejected {
		ew.printf("  %s\n", s)
	}
	ew.printf("groups:              %d from %d subjects\n", r.Groups, r.Subjects)
	ew.printf("prescription rows:   %d (largest group %d, %d groups over 20)\n", r.Prescriptions, r.LargestGroup, r.GroupsOver20)
	if r.DoseRanges+r.MissingDoses+r.MissingDrugs > 0 {
		ew.printf("doses:               %d ranges read as midpoint, %d missing; %d drug names missing\n", r.DoseRanges, r.MissingDoses, r.MissingDrugs)
	}
	if r.InconsistentGroups > 0 {
		ew.printf("inconsistent groups: %d (first row's pre/post values used)\n", r.InconsistentGroups)
	}
	if r.GroupsWithoutPre+r.GroupsWithoutPost > 0 {
		ew.printf("join dropped:        %d groups without a pre test, %d without a post test\n", r.GroupsWithoutPre, r.GroupsWithoutPost)
	}
	if len(r.MissingRate) > 0 {
		ew.printf("missing rate per analyte (pre / post):\n")
		for _, m := range r.MissingRate {
			ew.printf("  %-22s %5.1f%% / %5.1f%%\n", m.Analyte, 100*m.Pre, 100*m.Post)
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, a...)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DefaultBlockRows is the original model's block height: 20 prescription rows.
const DefaultBlockRows = 20

// ReadTables reads every input (local file or directory of .csv/.csv.gz, s3://bucket/key
// or s3://bucket/prefix) and groups the rows into samples. All tables must agree on the
// analytes and embedding width.
func ReadTables(ctx context.Context, inputs []string, opt ReadOptions) (*Dataset, *Report, error) {
	if len(inputs) == 0 {
		return nil, nil, errors.New("no inputs given")
	}
	rd := newTableReader(ctx, opt)
	var refs []inputRef
	for _, in := range inputs {
		r, err := expandInput(ctx, in, rd.opt.S3)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, r...)
	}
	rd.multi = len(refs) > 1
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if err := rd.readRef(ctx, ref); err != nil {
			return nil, nil, err
		}
	}
	return rd.finish()
}

// ReadTable reads one table from r the way ReadTables reads each input; name stands for
// the table in errors (name:line:col). Its Source has no checksum or size, as r is not a
// stored object.
func ReadTable(ctx context.Context, name string, r io.Reader, opt ReadOptions) (*Dataset, *Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	rd := newTableReader(ctx, opt)
	rows, err := rd.readCSV(name, r)
	if err != nil {
		return nil, nil, err
	}
	if rows == 0 {
		return nil, nil, fmt.Errorf("%s:2:1: no rows after the header; expected at least one", name)
	}
	rd.sources = append(rd.sources, Source{Path: name, Rows: rows})
	rd.rep.Files++
	return rd.finish()
}

// tableReader accumulates samples over several tables.
type tableReader struct {
	ctx     context.Context
	opt     ReadOptions
	rep     Report
	multi   bool
	layout  Layout
	hasAnal bool
	dimSet  bool
	dimFrom string

	samples      []Sample
	index        map[string]int
	inconsistent []bool
	firstLine    []int // per sample, the line of its first row; kept only for Strict's errors
	rx           []rxRow
	// previous final-table row's group key and pre/post cells, and a reused buffer
	prevKey   string
	prevCells []string
	embBuf    []float32
	blood     []bloodRow
	sources   []Source
}

func newTableReader(ctx context.Context, opt ReadOptions) *tableReader {
	rd := &tableReader{ctx: ctx, opt: opt, index: map[string]int{}, rep: Report{RejectReasons: map[string]int{}}}
	if l := opt.Layout; l != nil {
		// the given layout plays the part of an earlier table every table must agree with
		rd.layout = *l
		rd.layout.Analytes = slices.Clone(l.Analytes)
		rd.hasAnal, rd.dimSet, rd.dimFrom = true, true, "the given layout"
		rd.opt.EmbeddingDim = l.EmbeddingDim
	}
	return rd
}

type tableKind int

const (
	kindFinal tableKind = iota // pre/post values and prescriptions in one row
	kindRx                     // separate prescriptions table
	kindBlood                  // separate blood-test table
)

// schema is what a header tells about a table.
type schema struct {
	kind                      tableKind
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

func parseHeader(file string, header []string, opt *ReadOptions) (*schema, error) {
	s := &schema{file: file, ncol: len(header), names: make([]string, len(header))}
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
	s.subject = findCol(idx, "subject_id", "subject")
	s.start = findCol(idx, "prescription_start", "starttime", "start_time", "startdate")
	s.dose = findCol(idx, "prescription_dose_val_rx", "dose_val_rx", "dose")
	s.unit = findCol(idx, "prescription_dose_unit_rx", "dose_unit_rx", "unit")
	s.drug = findCol(idx, "prescription_drug", "drug")
	s.chart = findCol(idx, "charttime")
	s.embStr = -1
	for i, h := range s.names {
		if strings.Contains(h, "embedding") {
			if s.embStr >= 0 {
				return nil, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed, Reason: fmt.Sprintf("second embedding string column %q; expected one", h)}
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
			return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: fmt.Sprintf("embedding columns P0..P%d expected, P%d missing", len(pcols)-1, n)}
		}
		s.emb = append(s.emb, i)
	}
	// pre_/post_ analytes, timestamps excluded
	postIdx := map[string]int{}
	for i, h := range s.names {
		if a, ok := strings.CutPrefix(h, "post_"); ok && !strings.HasSuffix(a, "time") {
			postIdx[a] = i
		}
	}
	var pos map[string]int // analyte -> position in opt.Layout
	if opt.Layout != nil {
		s.analytes = opt.Layout.Analytes
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
			if !opt.AllowMissingTargets {
				return nil, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed, Reason: fmt.Sprintf("column pre_%s has no matching post_%s", a, a)}
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
			return nil, &RowError{File: file, Line: 1, Column: i + 1, Class: ClassMalformed,
				Reason: fmt.Sprintf("column %s names unknown analyte %q; expected one of %s", h, a, strings.Join(s.analytes, ", "))}
		}
		s.pre[k], s.post[k] = i, j
	}
	for a, j := range postIdx {
		return nil, &RowError{File: file, Line: 1, Column: j + 1, Class: ClassMalformed, Reason: fmt.Sprintf("column post_%s has no matching pre_%s", a, a)}
	}
	hasEmb := len(s.emb) > 0 || s.embStr >= 0 || s.drug >= 0
	switch {
	case found > 0 || (opt.AllowMissingTargets && s.chart < 0):
		s.kind = kindFinal
		if opt.Strict {
			if err := s.strictColumns(); err != nil {
				return nil, err
			}
		}
		if !hasEmb {
			return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "expected embedding columns P0..Pn, an embedding string column or prescription_drug"}
		}
		if s.dose < 0 {
			return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "expected a dose column prescription_dose_val_rx"}
		}
		if s.subject >= 0 && s.start < 0 {
			return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "expected prescription_start beside subject_id"}
		}
		// raw excerpts (drug names, no embeddings) use empty cells for missing values,
		// so -1.0 there is a real value
		s.sentinel = len(s.emb) > 0 || s.embStr >= 0
	case s.subject >= 0 && s.start >= 0 && hasEmb:
		s.kind = kindRx
		if s.dose < 0 {
			return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "prescriptions table: expected a dose column prescription_dose_val_rx"}
		}
	case s.subject >= 0 && s.chart >= 0:
		s.kind = kindBlood
		for i, h := range s.names {
			if i == s.subject || i == s.chart || idColumns[h] {
				continue
			}
			s.analytes = append(s.analytes, h)
			s.values = append(s.values, i)
		}
		if len(s.analytes) == 0 {
			return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "blood-test table: expected analyte columns beside subject_id and charttime"}
		}
	default:
		return nil, &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed,
			Reason: "unrecognised table: expected pre_*/post_* columns, a prescriptions table (subject_id, prescription_start, drug or embedding, dose) or a blood-test table (subject_id, charttime, analytes)"}
	}
	return s, nil
}

// strictColumns rejects columns a final table does not define, so a misspelt column
// cannot be ignored silently, and more than one drug source, which would be ambiguous.
func (s *schema) strictColumns() error {
	known := make([]bool, s.ncol)
	for _, i := range append([]int{s.subject, s.start, s.dose, s.unit, s.drug, s.embStr}, s.emb...) {
		if i >= 0 {
			known[i] = true
		}
	}
	for i, h := range s.names {
		// pre_/post_ values and their times, and other chart times, are the format's
		if known[i] || strings.HasPrefix(h, "pre_") || strings.HasPrefix(h, "post_") || strings.HasSuffix(h, "time") {
			continue
		}
		return &RowError{File: s.file, Line: 1, Column: i + 1, Class: ClassMalformed,
			Reason: fmt.Sprintf("unknown column %q; expected subject_id, prescription_start, prescription_dose_val_rx, prescription_dose_unit_rx, pre_<analyte>, post_<analyte>, P0..Pn, an embedding string column or prescription_drug", h)}
	}
	sources := 0
	for _, has := range []bool{len(s.emb) > 0, s.embStr >= 0, s.drug >= 0} {
		if has {
			sources++
		}
	}
	if sources > 1 {
		return &RowError{File: s.file, Line: 1, Column: 1, Class: ClassMalformed,
			Reason: "more than one drug source; expected only one of P0..Pn, an embedding string column, prescription_drug"}
	}
	return nil
}

// rxRow is one row of a separate prescriptions table, held until the join.
type rxRow struct {
	subject string
	at      time.Time
	emb     []float32
	dose    float32
	unit    string
}

// bloodRow is one row of a separate blood-test table.
type bloodRow struct {
	subject  string
	at       time.Time
	values   []float32
	observed []bool
}

func (rd *tableReader) readRef(ctx context.Context, ref inputRef) error {
	f, err := openRef(ctx, ref, rd.opt.S3)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := rd.readCSV(ref.name, f)
	if err != nil {
		return err
	}
	sum, n, err := f.finish()
	if err != nil {
		return fmt.Errorf("%s: %w", ref.name, err)
	}
	rd.sources = append(rd.sources, Source{Path: ref.name, SHA256: sum, Bytes: n, Rows: rows})
	rd.rep.Files++
	return nil
}

// reject records a bad row, or fails when the budget of bad rows is spent.
func (rd *tableReader) reject(e *RowError) error {
	if rd.rep.RowsRejected >= rd.opt.MaxBadRows {
		if rd.opt.MaxBadRows > 0 {
			return fmt.Errorf("%w (more than %d bad rows)", e, rd.opt.MaxBadRows)
		}
		return e
	}
	rd.rep.RowsRejected++
	rd.rep.RejectReasons[e.Class]++
	if len(rd.rep.Rejected) < maxKeptRejections {
		rd.rep.Rejected = append(rd.rep.Rejected, e.Error())
	}
	return nil
}

// rowParser parses the cells of one record; it remembers the record so errors can
// name the exact line and column.
type rowParser struct {
	file string
	cr   *csvReader
	line int
}

// f returns cell col of the current row.
func (p *rowParser) f(col int) string { return p.cr.Field(col) }

// cell is f for columns a table may lack (-1 with ReadOptions.Layout or
// AllowMissingTargets), which read as empty.
func (p *rowParser) cell(col int) string {
	if col < 0 {
		return ""
	}
	return p.cr.Field(col)
}

func (p *rowParser) fail(col int, class, reason string, names []string) *RowError {
	line, c := p.cr.FieldPos(col)
	e := &RowError{File: p.file, Line: line, Column: c, Class: class, Reason: reason}
	if col < len(names) {
		e.Field = names[col]
	}
	return e
}

func classOf(err error) string {
	if strings.Contains(err.Error(), "finite") {
		return ClassNotFinite
	}
	return ClassNotNumber
}

func (p *rowParser) number(col int, names []string) (float64, *RowError) {
	v, err := parseNumber(p.f(col))
	if err != nil {
		return 0, p.fail(col, classOf(err), err.Error(), names)
	}
	return v, nil
}

// value parses a blood value: empty cells are missing everywhere, -1.0 only where the
// format uses it as the missing sentinel.
func (p *rowParser) value(col int, sentinel bool, names []string) (float32, bool, *RowError) {
	cell := p.cell(col)
	if cell == "" || strings.TrimSpace(cell) == "" {
		return 0, false, nil
	}
	v, err := parseNumber(cell)
	if err != nil {
		return 0, false, p.fail(col, classOf(err), err.Error(), names)
	}
	if sentinel && v == -1 {
		return 0, false, nil
	}
	return float32(v), true, nil
}

func (rd *tableReader) readCSV(file string, r io.Reader) (int, error) {
	cr := newCSVReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return 0, fmt.Errorf("%s:1:1: empty file, expected a header line", file)
	}
	if err != nil {
		return 0, csvError(file, err)
	}
	header = append([]string(nil), header...)
	s, err := parseHeader(file, header, &rd.opt)
	if err != nil {
		return 0, err
	}
	if err := rd.adoptLayout(s); err != nil {
		return 0, err
	}
	p := &rowParser{file: file, cr: cr}
	rows := 0
	for {
		ncol, err := cr.next()
		if err == io.EOF {
			break
		}
		if rows%4096 == 0 {
			if cerr := rd.ctx.Err(); cerr != nil {
				return rows, cerr
			}
		}
		if err != nil {
			var pe *csvSyntaxError
			if !errors.As(err, &pe) {
				return rows, csvError(file, err)
			}
			rows++
			rd.rep.RowsRead++
			if rerr := rd.reject(csvRowError(file, pe)); rerr != nil {
				return rows, rerr
			}
			continue
		}
		rows++
		rd.rep.RowsRead++
		p.line, _ = cr.FieldPos(0)
		if ncol != s.ncol {
			e := &RowError{File: file, Line: p.line, Column: 1, Class: ClassColumnCount, Reason: fmt.Sprintf("expected %d columns as in the header, got %d", s.ncol, ncol)}
			if rerr := rd.reject(e); rerr != nil {
				return rows, rerr
			}
			continue
		}
		var rowErr *RowError
		switch s.kind {
		case kindFinal:
			rowErr = rd.finalRow(s, p, rows)
		case kindRx:
			rowErr = rd.rxRow(s, p)
		case kindBlood:
			rowErr = rd.bloodRow(s, p)
		}
		if rowErr != nil {
			if rerr := rd.reject(rowErr); rerr != nil {
				return rows, rerr
			}
		}
	}
	return rows, nil
}

func csvRowError(file string, pe *csvSyntaxError) *RowError {
	return &RowError{File: file, Line: pe.Line, Column: pe.Column, Class: ClassMalformed, Reason: "malformed csv: " + pe.Msg}
}

func csvError(file string, err error) error {
	var pe *csvSyntaxError
	if errors.As(err, &pe) {
		return csvRowError(file, pe)
	}
	var re *csvReadError
	if errors.As(err, &re) {
		return fmt.Errorf("%s:%d:1: %w", file, re.Line, re.Err)
	}
	return fmt.Errorf("%s: %w", file, err)
}

// adoptLayout checks a table's analytes and embedding width against earlier tables.
func (rd *tableReader) adoptLayout(s *schema) error {
	if len(s.analytes) > 0 {
		if !rd.hasAnal {
			rd.layout.Analytes = append([]string(nil), s.analytes...)
			rd.hasAnal = true
		} else if !slices.Equal(rd.layout.Analytes, s.analytes) {
			return fmt.Errorf("%s:1:1: analytes %v differ from earlier tables' %v", s.file, s.analytes, rd.layout.Analytes)
		}
	}
	dim := 0
	switch {
	case s.kind == kindBlood:
		return nil
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

// embedding parses the prescription's embedding from whichever source the table has.
func (rd *tableReader) embedding(s *schema, p *rowParser, dst []float32) ([]float32, *RowError) {
	switch {
	case len(s.emb) > 0:
		for _, c := range s.emb {
			v, err := p.number(c, s.names)
			if err != nil {
				return dst, err
			}
			dst = append(dst, float32(v))
		}
		return dst, nil
	case s.embStr >= 0:
		n0 := len(dst)
		out, err := appendEmbedding(dst, p.f(s.embStr))
		if err != nil {
			return dst, p.fail(s.embStr, ClassEmbedding, err.Error(), s.names)
		}
		got := len(out) - n0
		if !rd.dimSet {
			rd.setDim(got, p.file, p.line, 1)
		}
		if got != rd.layout.EmbeddingDim {
			return dst, p.fail(s.embStr, ClassEmbedding, fmt.Sprintf("expected an embedding of %d values, got %d", rd.layout.EmbeddingDim, got), s.names)
		}
		return out, nil
	default:
		name := p.f(s.drug)
		if strings.TrimSpace(name) == "" {
			if rd.opt.Strict {
				return dst, p.fail(s.drug, ClassMissingDrug, "expected a drug name, got an empty cell", s.names)
			}
			rd.rep.MissingDrugs++
		}
		if rd.opt.EmbedDrug == nil {
			return append(dst, EmbedText(name, rd.layout.EmbeddingDim)...), nil
		}
		emb, err := rd.opt.EmbedDrug(strings.TrimSpace(name))
		if err == nil && len(emb) != rd.layout.EmbeddingDim {
			err = fmt.Errorf("embedder returned %d values; expected %d", len(emb), rd.layout.EmbeddingDim)
		}
		if err != nil {
			return dst, p.fail(s.drug, ClassEmbedding, err.Error(), s.names)
		}
		return append(dst, emb...), nil
	}
}

func (rd *tableReader) dose(s *schema, p *rowParser) (float32, *RowError) {
	v, ranged, err := parseDose(p.f(s.dose))
	if err != nil {
		return 0, p.fail(s.dose, classOf(err), err.Error(), s.names)
	}
	if ranged {
		rd.rep.DoseRanges++
	}
	if math.IsNaN(v) {
		rd.rep.MissingDoses++
	}
	return float32(v), nil
}

func (rd *tableReader) unit(s *schema, p *rowParser) (string, *RowError) {
	u := ""
	if s.unit >= 0 {
		u = NormalizeUnit(p.f(s.unit))
	}
	if rd.opt.CheckUnit == nil {
		return u, nil
	}
	if err := rd.opt.CheckUnit(u); err != nil {
		if s.unit >= 0 {
			return "", p.fail(s.unit, ClassBadUnit, err.Error(), s.names)
		}
		return "", &RowError{File: p.file, Line: p.line, Field: "prescription_dose_unit_rx", Class: ClassBadUnit, Reason: err.Error()}
	}
	return u, nil
}

// subjectAt parses a row's subject id and its time in column col, which key every table.
func (rd *tableReader) subjectAt(s *schema, p *rowParser, col int) (string, time.Time, *RowError) {
	sub := strings.TrimSpace(p.f(s.subject))
	if sub == "" {
		return "", time.Time{}, p.fail(s.subject, ClassMissingID, "expected a subject id, got an empty cell", s.names)
	}
	t, err := parseTime(p.f(col))
	if err != nil {
		return "", t, p.fail(col, ClassBadTime, err.Error(), s.names)
	}
	return sub, t, nil
}

// prescription parses a row's embedding (appended to dst, returned even on error so a
// reused buffer is kept), dose and unit.
func (rd *tableReader) prescription(s *schema, p *rowParser, dst []float32) (emb []float32, dose float32, unit string, e *RowError) {
	if emb, e = rd.embedding(s, p, dst); e != nil {
		return emb, 0, "", e
	}
	if dose, e = rd.dose(s, p); e != nil {
		return emb, 0, "", e
	}
	unit, e = rd.unit(s, p)
	return emb, dose, unit, e
}

// scratch buffers for one final-table row, reused across rows
type rowScratch struct {
	pre, post       []float32
	preObs, postObs []bool
	emb             []float32
}

func (rd *tableReader) finalRow(s *schema, p *rowParser, rowNum int) *RowError {
	na := len(s.analytes)
	var key, subject, start string
	if s.subject >= 0 {
		sub, t, e := rd.subjectAt(s, p, s.start)
		if e != nil {
			return e
		}
		subject, start = sub, t.Format("2006-01-02")
		key = subject + "\x00" + start
	} else {
		subject = "row" + strconv.Itoa(rowNum)
		if rd.multi {
			subject = p.file + ":" + subject
		}
		key = "\x01" + subject
	}
	// Rows of one group repeat the same pre/post cells; when they are byte-identical to
	// the previous row's, the parsed values are already in the sample.
	same := key == rd.prevKey && rd.sameCells(s, p)
	// parse everything before touching the accumulators, so a bad row leaves no trace
	var sc rowScratch
	if !same {
		sc = rowScratch{
			pre: make([]float32, na), post: make([]float32, na),
			preObs: make([]bool, na), postObs: make([]bool, na),
		}
		for j := 0; j < na; j++ {
			v, ok, e := p.value(s.pre[j], s.sentinel, s.names)
			if e != nil {
				return e
			}
			sc.pre[j], sc.preObs[j] = v, ok
			v, ok, e = p.value(s.post[j], s.sentinel, s.names)
			if e != nil {
				return e
			}
			sc.post[j], sc.postObs[j] = v, ok
		}
	}
	emb, d, u, e := rd.prescription(s, p, rd.embBuf[:0])
	rd.embBuf = emb
	if e != nil {
		return e
	}
	i, ok := rd.index[key]
	if ok {
		if e := rd.checkGroup(s, p, &sc, i, same, subject, start); e != nil {
			return e
		}
	}
	if !same {
		rd.prevKey = key
		rd.prevCells = rd.prevCells[:0]
		for j := 0; j < na; j++ {
			rd.prevCells = append(rd.prevCells, p.cell(s.pre[j]), p.cell(s.post[j]))
		}
	}
	if !ok {
		i = len(rd.samples)
		rd.index[key] = i
		rd.samples = append(rd.samples, Sample{
			Subject: subject, Start: start,
			Pre: sc.pre, PreObserved: sc.preObs, Post: sc.post, PostObserved: sc.postObs,
		})
		rd.inconsistent = append(rd.inconsistent, false)
		if rd.opt.Strict {
			rd.firstLine = append(rd.firstLine, p.line)
		}
	} else if !same && !rd.inconsistent[i] {
		smp := &rd.samples[i]
		if !sameValues(smp.Pre, smp.PreObserved, sc.pre, sc.preObs) || !sameValues(smp.Post, smp.PostObserved, sc.post, sc.postObs) {
			rd.inconsistent[i] = true
			rd.rep.InconsistentGroups++
		}
	}
	smp := &rd.samples[i]
	smp.Embeddings = append(smp.Embeddings, emb...)
	smp.Doses = append(smp.Doses, d)
	smp.Units = append(smp.Units, u)
	return nil
}

// checkGroup applies MaxGroupRows and, with Strict, the one-test-per-group rule to a
// row joining sample i, before the row touches it.
func (rd *tableReader) checkGroup(s *schema, p *rowParser, sc *rowScratch, i int, same bool, subject, start string) *RowError {
	smp := &rd.samples[i]
	if max := rd.opt.MaxGroupRows; max > 0 && smp.NumRx() >= max {
		return &RowError{File: p.file, Line: p.line, Column: 1, Class: ClassGroupSize,
			Reason: fmt.Sprintf("group (%s, %s) has more than %d prescriptions; expected at most %d", subject, start, max, max)}
	}
	if !rd.opt.Strict || same {
		return nil
	}
	if j := firstDiff(sc.pre, sc.preObs, smp.Pre, smp.PreObserved); j >= 0 {
		return rd.groupDiff(s, p, s.pre[j], i, "pre")
	}
	if j := firstDiff(sc.post, sc.postObs, smp.Post, smp.PostObserved); j >= 0 {
		return rd.groupDiff(s, p, s.post[j], i, "post")
	}
	return nil
}

func (rd *tableReader) groupDiff(s *schema, p *rowParser, col, i int, when string) *RowError {
	return p.fail(col, ClassInconsistent, fmt.Sprintf("%q differs from line %d of the same group; expected one %s-treatment test per group",
		clip(p.f(col)), rd.firstLine[i], when), s.names)
}

// sameCells reports whether the row's pre/post cells equal the previous row's.
func (rd *tableReader) sameCells(s *schema, p *rowParser) bool {
	if len(rd.prevCells) != 2*len(s.pre) {
		return false
	}
	for j := range s.pre {
		if p.cell(s.pre[j]) != rd.prevCells[2*j] || p.cell(s.post[j]) != rd.prevCells[2*j+1] {
			return false
		}
	}
	return true
}

func sameValues(a []float32, ao []bool, b []float32, bo []bool) bool {
	return firstDiff(a, ao, b, bo) < 0
}

// firstDiff returns the first position where two value sets differ, or -1.
func firstDiff(a []float32, ao []bool, b []float32, bo []bool) int {
	for j := range a {
		if ao[j] != bo[j] || (ao[j] && a[j] != b[j]) {
			return j
		}
	}
	return -1
}

func (rd *tableReader) rxRow(s *schema, p *rowParser) *RowError {
	sub, t, e := rd.subjectAt(s, p, s.start)
	if e != nil {
		return e
	}
	emb, d, u, e := rd.prescription(s, p, make([]float32, 0, rd.layout.EmbeddingDim))
	if e != nil {
		return e
	}
	rd.rx = append(rd.rx, rxRow{subject: sub, at: t, emb: emb, dose: d, unit: u})
	return nil
}

func (rd *tableReader) bloodRow(s *schema, p *rowParser) *RowError {
	sub, t, e := rd.subjectAt(s, p, s.chart)
	if e != nil {
		return e
	}
	b := bloodRow{subject: sub, at: t, values: make([]float32, len(s.values)), observed: make([]bool, len(s.values))}
	for j, c := range s.values {
		v, ok, e := p.value(c, false, s.names)
		if e != nil {
			return e
		}
		b.values[j], b.observed[j] = v, ok
	}
	rd.blood = append(rd.blood, b)
	return nil
}

func (rd *tableReader) finish() (*Dataset, *Report, error) {
	if len(rd.rx) > 0 || len(rd.blood) > 0 {
		if len(rd.rx) == 0 {
			return nil, nil, errors.New("blood-test table given without a prescriptions table to join it to")
		}
		if len(rd.blood) == 0 {
			return nil, nil, errors.New("prescriptions table given without a blood-test table to join it to")
		}
		rd.join()
	}
	if len(rd.samples) == 0 {
		return nil, nil, errors.New("no samples read from the inputs")
	}
	if !rd.dimSet {
		rd.layout.EmbeddingDim = DefaultEmbeddingDim
	}
	if rd.opt.Layout == nil {
		rd.layout.BlockRows = DefaultBlockRows
		rd.layout.BlockFeatures = rd.layout.RxFeatures()
	}
	rd.rep.fillStats(rd.samples, rd.layout.Analytes)
	ds := &Dataset{Layout: rd.layout, Samples: rd.samples, Sources: rd.sources}
	rep := rd.rep
	return ds, &rep, nil
}

// fillStats computes the group, subject and missing-value figures of a sample set.
func (r *Report) fillStats(samples []Sample, analytes []string) {
	subjects := map[string]bool{}
	r.Groups, r.Prescriptions, r.LargestGroup, r.GroupsOver20 = len(samples), 0, 0, 0
	preMiss := make([]int, len(analytes))
	postMiss := make([]int, len(analytes))
	for i := range samples {
		s := &samples[i]
		subjects[s.Subject] = true
		n := s.NumRx()
		r.Prescriptions += n
		r.LargestGroup = max(r.LargestGroup, n)
		if n > DefaultBlockRows {
			r.GroupsOver20++
		}
		for j := range analytes {
			if !s.PreObserved[j] {
				preMiss[j]++
			}
			if !s.PostObserved[j] {
				postMiss[j]++
			}
		}
	}
	r.Subjects = len(subjects)
	r.MissingRate = make([]AnalyteMissing, len(analytes))
	for j, a := range analytes {
		r.MissingRate[j] = AnalyteMissing{Analyte: a}
		if len(samples) > 0 {
			r.MissingRate[j].Pre = float64(preMiss[j]) / float64(len(samples))
			r.MissingRate[j].Post = float64(postMiss[j]) / float64(len(samples))
		}
	}
}
