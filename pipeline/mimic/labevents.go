package mimic

import (
	"context"
	"io"

	"github.com/blueblood/blueblood/pipeline"
)

// labValue is one kept lab value, handed to a pairer as it streams by.
type labValue struct {
	subject int32 // index into the pairer's subjects
	analyte int32
	t       int64
	hadm    int64
	v       float32
}

// itemIndex maps itemids to analytes: a slice for the small ids MIMIC uses, a map beyond.
type itemIndex struct {
	small []int16 // analyte+1, 0 = not selected
	large map[int64]int16
}

const smallItems = 1 << 20

func newItemIndex(an []analyte) *itemIndex {
	ix := &itemIndex{large: map[int64]int16{}}
	for a, x := range an {
		for _, id := range x.ItemIDs {
			if id >= 0 && id < smallItems {
				if ix.small == nil {
					ix.small = make([]int16, smallItems)
				}
				ix.small[id] = int16(a + 1)
			} else {
				ix.large[id] = int16(a + 1)
			}
		}
	}
	return ix
}

func (ix *itemIndex) get(id int64) int {
	if id >= 0 && id < smallItems {
		if ix.small == nil {
			return -1
		}
		return int(ix.small[id]) - 1
	}
	if a, ok := ix.large[id]; ok {
		return int(a) - 1
	}
	return -1
}

// labStats counts what streaming labevents did.
type labStats struct {
	rows, selected, kept, noValue, outOfRange, otherSubject int
	units                                                   []map[string]int // per analyte: valueuom counts
}

// streamLabs reads labevents once and hands every value of a selected itemid, for a
// subject with prescriptions, to keep; nothing else is held.
func streamLabs(ctx context.Context, name string, store pipeline.ObjectStore, an []analyte, subjects map[int64]int32,
	adm map[int64][]admission, keep func(labValue)) (labStats, pipeline.Source, error) {
	st := labStats{units: make([]map[string]int, len(an))}
	f, err := pipeline.OpenTable(ctx, name, store)
	if err != nil {
		return st, pipeline.Source{}, err
	}
	defer f.Close()
	pf := prefetch(f)
	defer pf.Close()
	cr := newCSVReader(pf, name)
	idx, err := cr.header()
	if err != nil {
		return st, pipeline.Source{}, err
	}
	cols, err := columns(name, idx, "subject_id", "itemid", "charttime", "valuenum")
	if err != nil {
		return st, pipeline.Source{}, err
	}
	cSub, cItem, cTime, cVal := cols[0], cols[1], cols[2], cols[3]
	cHadm, cUnit := optional(idx, "hadm_id"), optional(idx, "valueuom")
	need := max(cSub, cItem, cTime, cVal, cHadm, cUnit) + 1
	items := newItemIndex(an)
	for {
		rec, err := cr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, pipeline.Source{}, err
		}
		st.rows++
		if st.rows&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return st, pipeline.Source{}, err
			}
		}
		if len(rec) < need {
			return st, pipeline.Source{}, cr.cellError(len(rec)-1, "", "row has "+itoa(len(rec))+" columns; expected as many as the header")
		}
		id, ok := atoi(rec[cItem])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cItem, "itemid", "expected a numeric itemid, got "+quote(rec[cItem]))
		}
		a := items.get(id)
		if a < 0 {
			continue
		}
		st.selected++
		sub, ok := atoi(rec[cSub])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cSub, "subject_id", "expected a numeric subject id, got "+quote(rec[cSub]))
		}
		si, ok := subjects[sub]
		if !ok {
			st.otherSubject++
			continue
		}
		if len(rec[cVal]) == 0 {
			st.noValue++
			continue
		}
		v, ok := parseFloat(rec[cVal])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cVal, "valuenum", "expected a number or an empty cell, got "+quote(rec[cVal]))
		}
		if !an[a].keep(v) {
			st.outOfRange++
			continue
		}
		t, ok := parseTime(rec[cTime])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cTime, "charttime", "expected a time like 2180-05-07 22:00:00, got "+quote(rec[cTime]))
		}
		var hadm int64
		if cHadm >= 0 && len(rec[cHadm]) > 0 {
			if hadm, ok = atoi(rec[cHadm]); !ok {
				return st, pipeline.Source{}, cr.cellError(cHadm, "hadm_id", "expected a numeric admission id or an empty cell, got "+quote(rec[cHadm]))
			}
		} else if adm != nil {
			hadm = admissionAt(adm[sub], t)
		}
		if cUnit >= 0 && an[a].Unit == "" && len(st.units[a]) < 8 {
			if st.units[a] == nil {
				st.units[a] = map[string]int{}
			}
			st.units[a][string(rec[cUnit])]++
		}
		st.kept++
		keep(labValue{subject: si, analyte: int32(a), t: t, hadm: hadm, v: float32(v)})
	}
	src, err := f.Source(st.rows)
	return st, src, err
}

// streamRaw reads labevents once and hands every row whose itemid want accepts to fn,
// parsed (value is the text cell, num the valuenum when hasNum); the original rule
// needs text results (the specimen) and rows of every subject.
func streamRaw(ctx context.Context, name string, store pipeline.ObjectStore, want func(int64) bool,
	fn func(item, sub, hadm, t int64, value []byte, num float64, hasNum bool)) (labStats, pipeline.Source, error) {
	var st labStats
	f, err := pipeline.OpenTable(ctx, name, store)
	if err != nil {
		return st, pipeline.Source{}, err
	}
	defer f.Close()
	cr := newCSVReader(f, name)
	idx, err := cr.header()
	if err != nil {
		return st, pipeline.Source{}, err
	}
	cols, err := columns(name, idx, "subject_id", "hadm_id", "itemid", "charttime", "value", "valuenum")
	if err != nil {
		return st, pipeline.Source{}, err
	}
	cSub, cHadm, cItem, cTime, cText, cVal := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
	need := max(cSub, cHadm, cItem, cTime, cText, cVal) + 1
	for {
		rec, err := cr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, pipeline.Source{}, err
		}
		st.rows++
		if len(rec) < need {
			return st, pipeline.Source{}, cr.cellError(len(rec)-1, "", "row has "+itoa(len(rec))+" columns; expected as many as the header")
		}
		item, ok := atoi(rec[cItem])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cItem, "itemid", "expected a numeric itemid, got "+quote(rec[cItem]))
		}
		if !want(item) {
			continue
		}
		st.selected++
		sub, ok := atoi(rec[cSub])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cSub, "subject_id", "expected a numeric subject id, got "+quote(rec[cSub]))
		}
		hadm, _ := atoi(rec[cHadm])
		t, ok := parseTime(rec[cTime])
		if !ok {
			return st, pipeline.Source{}, cr.cellError(cTime, "charttime", "expected a time like 2180-05-07 22:00:00, got "+quote(rec[cTime]))
		}
		num, hasNum := 0.0, len(rec[cVal]) > 0
		if hasNum {
			if num, ok = parseFloat(rec[cVal]); !ok {
				return st, pipeline.Source{}, cr.cellError(cVal, "valuenum", "expected a number or an empty cell, got "+quote(rec[cVal]))
			}
		}
		st.kept++
		fn(item, sub, hadm, t, rec[cText], num, hasNum)
	}
	src, err := f.Source(st.rows)
	return st, src, err
}
