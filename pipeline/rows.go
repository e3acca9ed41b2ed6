package pipeline

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

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

// value parses a blood value: empty cells are missing everywhere; where the format uses
// -1.0 as the missing code, -1 is returned unobserved, and finish decides per analyte
// whether it was a value after all.
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
		return -1, false, nil
	}
	return float32(v), true, nil
}

func (rd *tableReader) readCSV(file string, r io.Reader) (int, error) {
	cr := newCSVReader(r)
	cr.setLimits(rd.opt.Limits)
	header, err := cr.Read()
	if err == io.EOF {
		return 0, fmt.Errorf("%s:1:1: empty file, expected a header line", file)
	}
	if err != nil {
		return 0, csvError(file, err)
	}
	header = append([]string(nil), header...)
	if rd.header == nil {
		rd.header = header
	} else if !slices.Equal(rd.header, header) {
		rd.headerOK = false
	}
	s, err := parseHeader(file, header, &rd.opt)
	if err != nil {
		return 0, err
	}
	if err := rd.adoptLayout(s); err != nil {
		return 0, err
	}
	rd.schema = s
	p := &rowParser{file: file, cr: cr}
	rows := 0
	for {
		ncol, err := cr.next()
		if err == io.EOF {
			break
		}
		if lerr := rd.checkRows(file, cr.start); lerr != nil {
			return rows, lerr
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
	if s.sentinel && v == -1 {
		v = math.NaN() // the missing code: a dose cannot be negative
	}
	if math.IsNaN(v) {
		rd.rep.MissingDoses++
	}
	return float32(v), nil
}

func (rd *tableReader) unit(s *schema, p *rowParser) (string, *RowError) {
	u := ""
	if s.unit >= 0 {
		u = rd.intern(NormalizeUnit(p.f(s.unit)))
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
	sub := subjectID(strings.TrimSpace(p.f(s.subject)))
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
}

func (rd *tableReader) finalRow(s *schema, p *rowParser, rowNum int) *RowError {
	na := len(s.analytes)
	var key, subject, start string
	var startTime time.Time
	if s.subject >= 0 {
		sub, t, e := rd.subjectAt(s, p, s.start)
		if e != nil {
			return e
		}
		subject, start, startTime = sub, t.Format("2006-01-02"), t
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
		if s.sentinel {
			rd.countNegatives(&sc)
		}
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
			Subject: strings.Clone(subject), Start: start,
			Pre: sc.pre, PreObserved: sc.preObs, Post: sc.post, PostObserved: sc.postObs,
		})
		rd.inconsistent = append(rd.inconsistent, false)
		if s.subject >= 0 {
			rd.noteGap(s, p, i, subject, startTime)
		}
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

// countNegatives counts, per analyte, the cells of an accepted row that held the -1.0
// missing code and those with other negative values, for finish's decision.
func (rd *tableReader) countNegatives(sc *rowScratch) {
	if len(rd.minusOnes) < len(sc.pre) {
		rd.minusOnes = append(rd.minusOnes, make([]int, len(sc.pre)-len(rd.minusOnes))...)
		rd.otherNeg = append(rd.otherNeg, make([]int, len(sc.pre)-len(rd.otherNeg))...)
	}
	for j := range sc.pre {
		for _, c := range [2]struct {
			v  float32
			ok bool
		}{{sc.pre[j], sc.preObs[j]}, {sc.post[j], sc.postObs[j]}} {
			switch {
			case !c.ok && c.v == -1:
				rd.minusOnes[j]++
			case c.ok && c.v < 0:
				rd.otherNeg[j]++
			}
		}
	}
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
