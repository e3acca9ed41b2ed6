package pipeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// finalTable is the final table: pre_*/post_* blood values and the prescription in one
// row, rows grouped by (subject_id, prescription date) or each row its own sample. With
// raw set it is the raw excerpt: the drug is a name in prescription_drug and empty cells,
// not -1.0, are missing.
type finalTable struct{ raw bool }

// isFinal: pre_ columns, or (reading requests) no chart time of a blood-test table.
func isFinal(s *schema, opt *ReadOptions) bool {
	return s.found > 0 || (opt.Request.AllowMissingTargets && s.chart < 0)
}

func (f finalTable) detect(s *schema, opt *ReadOptions) bool {
	embedded := len(s.emb) > 0 || s.embStr >= 0
	return isFinal(s, opt) && embedded != f.raw
}

func (f finalTable) check(s *schema, opt *ReadOptions) error {
	file := s.file
	hasEmb := len(s.emb) > 0 || s.embStr >= 0 || s.drug >= 0
	if opt.Request.Strict {
		if err := s.strictColumns(); err != nil {
			return err
		}
	}
	if !hasEmb {
		return &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "expected embedding columns P0..Pn, an embedding string column or prescription_drug"}
	}
	if s.dose < 0 {
		return &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "expected a dose column prescription_dose_val_rx"}
	}
	if s.subject >= 0 && s.start < 0 {
		return &RowError{File: file, Line: 1, Column: 1, Class: ClassMalformed, Reason: "expected prescription_start beside subject_id"}
	}
	// raw excerpts (drug names, no embeddings) use empty cells for missing values,
	// so -1.0 there is a real value
	s.sentinel = !f.raw
	return nil
}

func (finalTable) begin(rd *tableReader, s *schema) error { return rd.adoptLayout(s) }

func (finalTable) row(rd *tableReader, s *schema, p *rowParser, n int) *RowError {
	return rd.finalRow(s, p, n)
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
		rd.compactBefore(i)
		rd.index[key] = i
		rd.samples = append(rd.samples, Sample{
			Subject: strings.Clone(subject), Start: rd.intern(start), // dates repeat across subjects
			Pre: sc.pre, PreObserved: sc.preObs, Post: sc.post, PostObserved: sc.postObs,
		})
		rd.inconsistent = append(rd.inconsistent, false)
		if s.subject >= 0 {
			rd.noteGap(s, p, i, subject, startTime)
		}
		if rd.opt.Request.Strict {
			rd.firstLine = append(rd.firstLine, p.line)
		}
	} else if !same && !rd.inconsistent[i] {
		smp := &rd.samples[i]
		if !sameValues(smp.Pre, smp.PreObserved, sc.pre, sc.preObs) || !sameValues(smp.Post, smp.PostObserved, sc.post, sc.postObs) {
			rd.inconsistent[i] = true
			rd.rep.InconsistentGroups++
		}
	}
	if rd.opt.Request.RowSamples {
		rd.rowSample = append(rd.rowSample, i)
	}
	smp := &rd.samples[i]
	smp.Embeddings = append(smp.Embeddings, rd.embs.share(emb))
	smp.Doses = append(smp.Doses, d)
	smp.Units = append(smp.Units, u)
	smp.addDrug(rd.drugName(s, p))
	return nil
}

// countNegatives tallies, per analyte, the cells of an accepted row for finish's
// decision on the -1.0 missing code (minusone.go).
func (rd *tableReader) countNegatives(sc *rowScratch) {
	if len(rd.minusOne) < len(sc.pre) {
		rd.minusOne = append(rd.minusOne, make([]minusOneTally, len(sc.pre)-len(rd.minusOne))...)
	}
	for j := range sc.pre {
		rd.minusOne[j].add(sc.pre[j], sc.preObs[j])
		rd.minusOne[j].add(sc.post[j], sc.postObs[j])
	}
}

// checkGroup applies MaxGroupRows and, with Strict, the one-test-per-group rule to a
// row joining sample i, before the row touches it.
func (rd *tableReader) checkGroup(s *schema, p *rowParser, sc *rowScratch, i int, same bool, subject, start string) *RowError {
	smp := &rd.samples[i]
	if max := rd.opt.Request.MaxGroupRows; max > 0 && smp.NumRx() >= max {
		return &RowError{File: p.file, Line: p.line, Column: 1, Class: ClassGroupSize,
			Reason: fmt.Sprintf("group (%s, %s) has more than %d prescriptions; expected at most %d", subject, start, max, max)}
	}
	if !rd.opt.Request.Strict || same {
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
