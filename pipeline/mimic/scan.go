package mimic

import (
	"context"
	"io"
	"strconv"

	"github.com/blueblood/blueblood/pipeline"
)

// table is a native table open for one streaming pass: its reader, its header and the
// records read so far (what its Source counts).
type table struct {
	f    *pipeline.TableStream
	pf   *prefetcher
	cr   *csvReader
	idx  map[string]int
	rows int
}

// openTable opens name and reads its header; ahead reads the file on another
// goroutine (labevents, the one table large enough to gain from it).
func openTable(ctx context.Context, name string, store pipeline.ObjectStore, ahead bool) (*table, error) {
	f, err := pipeline.OpenTable(ctx, name, store)
	if err != nil {
		return nil, err
	}
	t := &table{f: f}
	var r io.Reader = f
	if ahead {
		pf := prefetch(f)
		t.pf, r = pf, pf
	}
	t.cr = newCSVReader(r, name)
	if t.idx, err = t.cr.header(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close closes the table.
func (t *table) Close() {
	if t.pf != nil {
		t.pf.Close()
	}
	t.f.Close()
}

// each hands fn every record in turn, once it has at least need columns (a shorter row
// is an error); it checks ctx every 65536 records.
func (t *table) each(ctx context.Context, need int, fn func(rec [][]byte) error) error {
	for {
		rec, err := t.cr.read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		t.rows++
		if t.rows&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(rec) < need {
			return t.cr.cellError(len(rec)-1, "", "row has "+strconv.Itoa(len(rec))+" columns; expected as many as the header")
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// itemID parses the itemid in column c of rec.
func (t *table) itemID(rec [][]byte, c int) (int64, error) {
	id, ok := atoi(rec[c])
	if !ok {
		return 0, t.cr.cellError(c, "itemid", "expected a numeric itemid, got "+quote(rec[c]))
	}
	return id, nil
}

// subjectID parses the subject_id in column c of rec.
func (t *table) subjectID(rec [][]byte, c int) (int64, error) {
	id, ok := atoi(rec[c])
	if !ok {
		return 0, t.cr.cellError(c, "subject_id", "expected a numeric subject id, got "+quote(rec[c]))
	}
	return id, nil
}

// time parses the time in column c (called name) of rec.
func (t *table) time(rec [][]byte, c int, name string) (int64, error) {
	v, ok := parseTime(rec[c])
	if !ok {
		return 0, t.cr.cellError(c, name, "expected a time like 2180-05-07 22:00:00, got "+quote(rec[c]))
	}
	return v, nil
}

// valueNum parses the valuenum in column c of rec; has is false for an empty cell.
func (t *table) valueNum(rec [][]byte, c int) (v float64, has bool, err error) {
	if len(rec[c]) == 0 {
		return 0, false, nil
	}
	v, ok := parseFloat(rec[c])
	if !ok {
		return 0, false, t.cr.cellError(c, "valuenum", "expected a number or an empty cell, got "+quote(rec[c]))
	}
	return v, true, nil
}

// source is the table's Source for the records read.
func (t *table) source() (pipeline.Source, error) { return t.f.Source(t.rows) }

// readTimes parses the columns cols (named names) of rec into v: the first ints as ids,
// the rest as times.
func (t *table) readTimes(rec [][]byte, cols []int, names []string, ints int, v []int64) error {
	for k, c := range cols {
		if c >= len(rec) {
			return t.cr.cellError(len(rec)-1, names[k], "row has "+strconv.Itoa(len(rec))+" columns; expected as many as the header")
		}
		var ok bool
		if k < ints {
			v[k], ok = atoi(rec[c])
		} else {
			v[k], ok = parseTime(rec[c])
		}
		if !ok {
			return t.cr.cellError(c, names[k], "expected a number or a time, got "+quote(rec[c]))
		}
	}
	return nil
}

// readIDTimes streams a table of ids and times (admissions, ICU stays): want are its
// columns (alternatives split by "|"), names how errors call them, the first ints of
// them ids and the rest times; fn gets each row's values in want's order.
func readIDTimes(ctx context.Context, name string, store pipeline.ObjectStore, want, names []string, ints int,
	fn func(v []int64)) (pipeline.Source, error) {
	t, err := openTable(ctx, name, store, false)
	if err != nil {
		return pipeline.Source{}, err
	}
	defer t.Close()
	cols, err := columns(name, t.idx, want...)
	if err != nil {
		return pipeline.Source{}, err
	}
	v := make([]int64, len(cols))
	err = t.each(ctx, 0, func(rec [][]byte) error {
		if err := t.readTimes(rec, cols, names, ints, v); err != nil {
			return err
		}
		fn(v)
		return nil
	})
	if err != nil {
		return pipeline.Source{}, err
	}
	return t.source()
}
