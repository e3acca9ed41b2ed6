package pipeline

import "time"

// bloodTable is a separate blood-test table (subject_id, charttime, analyte columns
// without prefix); finish joins its rows with a prescriptions table.
type bloodTable struct{}

// detect: ids and a chart time, and neither a final table's blood values nor a
// prescriptions table's drug and start time.
func (bloodTable) detect(s *schema, opt *ReadOptions) bool {
	return !isFinal(s, opt) && !(rxTable{}).detect(s, opt) && s.subject >= 0 && s.chart >= 0
}

func (bloodTable) check(s *schema, _ *ReadOptions) error {
	for i, h := range s.names {
		if i == s.subject || i == s.chart || idColumns[h] {
			continue
		}
		s.analytes = append(s.analytes, h)
		s.values = append(s.values, i)
	}
	if len(s.analytes) == 0 {
		return &RowError{File: s.file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "blood-test table: expected analyte columns beside subject_id and charttime"}
	}
	return nil
}

// begin adopts the analytes only: a blood-test table has no drug embeddings.
func (bloodTable) begin(rd *tableReader, s *schema) error { return rd.adoptAnalytes(s) }

func (bloodTable) row(rd *tableReader, s *schema, p *rowParser, _ int) *RowError {
	return rd.bloodRow(s, p)
}

// bloodRow is one row of a separate blood-test table.
type bloodRow struct {
	subject  string
	at       time.Time
	values   []float32
	observed []bool
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
