package mimic

import (
	"context"

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
	tab, err := openTable(ctx, name, store, true)
	if err != nil {
		return st, pipeline.Source{}, err
	}
	defer tab.Close()
	cr := tab.cr
	cols, err := columns(name, tab.idx, "subject_id", "itemid", "charttime", "valuenum")
	if err != nil {
		return st, pipeline.Source{}, err
	}
	cSub, cItem, cTime, cVal := cols[0], cols[1], cols[2], cols[3]
	cHadm, cUnit := optional(tab.idx, "hadm_id"), optional(tab.idx, "valueuom")
	need := max(cSub, cItem, cTime, cVal, cHadm, cUnit) + 1
	items := newItemIndex(an)
	err = tab.each(ctx, need, func(rec [][]byte) error {
		id, err := tab.itemID(rec, cItem)
		if err != nil {
			return err
		}
		a := items.get(id)
		if a < 0 {
			return nil
		}
		st.selected++
		sub, err := tab.subjectID(rec, cSub)
		if err != nil {
			return err
		}
		si, ok := subjects[sub]
		if !ok {
			st.otherSubject++
			return nil
		}
		v, has, err := tab.valueNum(rec, cVal)
		if err != nil {
			return err
		}
		if !has {
			st.noValue++
			return nil
		}
		if !an[a].keep(v) {
			st.outOfRange++
			return nil
		}
		t, err := tab.time(rec, cTime, "charttime")
		if err != nil {
			return err
		}
		var hadm int64
		if cHadm >= 0 && len(rec[cHadm]) > 0 {
			if hadm, ok = atoi(rec[cHadm]); !ok {
				return cr.cellError(cHadm, "hadm_id", "expected a numeric admission id or an empty cell, got "+quote(rec[cHadm]))
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
		return nil
	})
	if err != nil {
		return st, pipeline.Source{}, err
	}
	st.rows = tab.rows
	src, err := tab.source()
	return st, src, err
}

// streamRaw reads labevents once and hands every row whose itemid want accepts to fn,
// parsed (value is the text cell, num the valuenum when hasNum); the original rule
// needs text results (the specimen) and rows of every subject.
func streamRaw(ctx context.Context, name string, store pipeline.ObjectStore, want func(int64) bool,
	fn func(item, sub, hadm, t int64, value []byte, num float64, hasNum bool)) (labStats, pipeline.Source, error) {
	var st labStats
	tab, err := openTable(ctx, name, store, false)
	if err != nil {
		return st, pipeline.Source{}, err
	}
	defer tab.Close()
	cols, err := columns(name, tab.idx, "subject_id", "hadm_id", "itemid", "charttime", "value", "valuenum")
	if err != nil {
		return st, pipeline.Source{}, err
	}
	cSub, cHadm, cItem, cTime, cText, cVal := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
	need := max(cSub, cHadm, cItem, cTime, cText, cVal) + 1
	err = tab.each(ctx, need, func(rec [][]byte) error {
		item, err := tab.itemID(rec, cItem)
		if err != nil {
			return err
		}
		if !want(item) {
			return nil
		}
		st.selected++
		sub, err := tab.subjectID(rec, cSub)
		if err != nil {
			return err
		}
		hadm, _ := atoi(rec[cHadm])
		t, err := tab.time(rec, cTime, "charttime")
		if err != nil {
			return err
		}
		num, hasNum, err := tab.valueNum(rec, cVal)
		if err != nil {
			return err
		}
		st.kept++
		fn(item, sub, hadm, t, rec[cText], num, hasNum)
		return nil
	})
	if err != nil {
		return st, pipeline.Source{}, err
	}
	st.rows = tab.rows
	src, err := tab.source()
	return st, src, err
}
