package mimic

import (
	"context"
	"sort"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// rxRow is one prescription, compact: drug and unit are indexes into rxTable's lists.
type rxRow struct {
	subject, hadm int64
	start         int64 // seconds since 1970; MIMIC-III: the start date at 00:00
	drug, unit    int32
	dose          float32 // NaN = missing or unparseable
	order         int32   // the row's position in the file, so groups keep file order
}

// rxTable is the prescriptions table as read.
type rxTable struct {
	rows     []rxRow
	drugs    []string // "drug (route)", as embedded
	names    [][2]string
	units    []string
	dateOnly bool // MIMIC-III: STARTDATE, groups are dates
	source   pipeline.Source

	ranges, unparsed, missingDose, noStart int
}

// readPrescriptions reads every prescription with a start time.
func readPrescriptions(ctx context.Context, name string, store pipeline.ObjectStore) (*rxTable, error) {
	tab, err := openTable(ctx, name, store, false)
	if err != nil {
		return nil, err
	}
	defer tab.Close()
	cr, idx := tab.cr, tab.idx
	rx := &rxTable{}
	startCol := "starttime"
	if optional(idx, "starttime") < 0 && optional(idx, "startdate") >= 0 {
		startCol, rx.dateOnly = "startdate", true
	}
	cols, err := columns(name, idx, "subject_id", "hadm_id", startCol, "drug", "dose_val_rx", "dose_unit_rx")
	if err != nil {
		return nil, err
	}
	cSub, cHadm, cStart, cDrug, cDose, cUnit := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
	cRoute := optional(idx, "route")
	need := max(cSub, cHadm, cStart, cDrug, cDose, cUnit, cRoute) + 1
	drugIdx := map[string]int32{}
	unitIdx := map[string]int32{}
	err = tab.each(ctx, need, func(rec [][]byte) error {
		sub, err := tab.subjectID(rec, cSub)
		if err != nil {
			return err
		}
		hadm, ok := atoi(rec[cHadm])
		if !ok && len(rec[cHadm]) > 0 {
			return cr.cellError(cHadm, "hadm_id", "expected a numeric admission id or an empty cell, got "+quote(rec[cHadm]))
		}
		if len(rec[cStart]) == 0 {
			rx.noStart++
			return nil
		}
		start, err := tab.time(rec, cStart, startCol)
		if err != nil {
			return err
		}
		if rx.dateOnly {
			start -= ((start % 86400) + 86400) % 86400
		}
		drug := strings.TrimSpace(string(rec[cDrug]))
		route := ""
		if cRoute >= 0 {
			route = strings.TrimSpace(string(rec[cRoute]))
		}
		key := drug + "\x00" + route
		di, ok := drugIdx[key]
		if !ok {
			di = int32(len(rx.drugs))
			drugIdx[key] = di
			rx.drugs = append(rx.drugs, drugText(drug, route))
			rx.names = append(rx.names, [2]string{drug, route})
		}
		unit := pipeline.NormalizeUnit(string(rec[cUnit]))
		ui, ok := unitIdx[unit]
		if !ok {
			ui = int32(len(rx.units))
			unitIdx[unit] = ui
			rx.units = append(rx.units, unit)
		}
		dose, ranged, ok := parseDose(string(rec[cDose]))
		switch {
		case ranged:
			rx.ranges++
		case !ok && len(strings.TrimSpace(string(rec[cDose]))) == 0:
			rx.missingDose++
		case !ok:
			rx.unparsed++
		}
		rx.rows = append(rx.rows, rxRow{subject: sub, hadm: hadm, start: start, drug: di, unit: ui, dose: float32(dose), order: int32(len(rx.rows))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rx.rows) == 0 {
		return nil, &CellError{File: name, Line: 2, Column: 1, Field: startCol, Reason: "no prescription with a start time; expected at least one"}
	}
	if rx.source, err = tab.source(); err != nil {
		return nil, err
	}
	sort.Slice(rx.rows, func(i, j int) bool {
		a, b := &rx.rows[i], &rx.rows[j]
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return a.order < b.order
	})
	return rx, nil
}

// drugText is what is embedded for a prescription: the drug with its route, since
// "Potassium Chloride" by mouth and by vein differ.
func drugText(drug, route string) string {
	if route == "" {
		return drug
	}
	return drug + " (" + route + ")"
}

// group is one subject's prescriptions that start at the same time (MIMIC-III: date).
type group struct {
	subject, hadm int64
	start         int64
	lo, hi        int32 // rows[lo:hi] of the sorted prescriptions
}

// groups cuts the sorted prescriptions into groups; a group's admission is its first
// row's with one.
func (rx *rxTable) groups() []group {
	var out []group
	for i := 0; i < len(rx.rows); {
		r := rx.rows[i]
		g := group{subject: r.subject, start: r.start, lo: int32(i)}
		j := i
		for ; j < len(rx.rows) && rx.rows[j].subject == r.subject && rx.rows[j].start == r.start; j++ {
			if g.hadm == 0 {
				g.hadm = rx.rows[j].hadm
			}
		}
		g.hi = int32(j)
		out = append(out, g)
		i = j
	}
	return out
}

// quote shows a cell in an error, clipped.
func quote(b []byte) string {
	s := string(b)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + s + `"`
}
