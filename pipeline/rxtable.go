package pipeline

import "time"

// rxTable is a separate prescriptions table (subject_id, prescription_start, a drug or
// embedding, dose, unit; no blood values); finish joins its rows with a blood-test table.
type rxTable struct{}

// detect: ids, a start time and a drug, and no blood values (a final table has them).
func (rxTable) detect(s *schema, opt *ReadOptions) bool {
	return !isFinal(s, opt) && s.subject >= 0 && s.start >= 0 && (len(s.emb) > 0 || s.embStr >= 0 || s.drug >= 0)
}

func (rxTable) check(s *schema, _ *ReadOptions) error {
	if s.dose < 0 {
		return &RowError{File: s.file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "prescriptions table: expected a dose column prescription_dose_val_rx"}
	}
	return nil
}

func (rxTable) begin(rd *tableReader, s *schema) error { return rd.adoptLayout(s) }

func (rxTable) row(rd *tableReader, s *schema, p *rowParser, _ int) *RowError { return rd.rxRow(s, p) }

// rxRow is one row of a separate prescriptions table, held until the join.
type rxRow struct {
	subject string
	at      time.Time
	emb     []float32 // shared (embeddingSet)
	dose    float32
	unit    string
	drug    string
}

func (rd *tableReader) rxRow(s *schema, p *rowParser) *RowError {
	sub, t, e := rd.subjectAt(s, p, s.start)
	if e != nil {
		return e
	}
	emb, d, u, e := rd.prescription(s, p, rd.embBuf[:0])
	rd.embBuf = emb
	if e != nil {
		return e
	}
	rd.rx = append(rd.rx, rxRow{subject: sub, at: t, emb: rd.embs.share(emb), dose: d, unit: u, drug: rd.drugName(s, p)})
	return nil
}
