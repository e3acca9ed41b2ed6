package pipeline

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

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
	if err := s.format.begin(rd, s); err != nil {
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
		if rowErr := s.format.row(rd, s, p, rows); rowErr != nil {
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
			if rd.opt.Request.Strict {
				return dst, p.fail(s.drug, ClassMissingDrug, "expected a drug name, got an empty cell", s.names)
			}
			rd.rep.MissingDrugs++
		}
		// EmbedText ignores the spaces around a name, so trimming changes nothing there
		emb, err := rd.opt.Request.EmbedName(strings.TrimSpace(name), rd.layout.EmbeddingDim)
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
	if rd.opt.Request.CheckUnit == nil {
		return u, nil
	}
	if err := rd.opt.Request.CheckUnit(u); err != nil {
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

// drugName is the row's drug name when the table has a drug column ("" otherwise), kept
// beside the embedding so that reports can name drugs.
func (rd *tableReader) drugName(s *schema, p *rowParser) string {
	if s.drug < 0 {
		return ""
	}
	return rd.intern(strings.TrimSpace(p.f(s.drug)))
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
