package mimic

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// writeTable writes the kept groups in the final-table shape, one row per
// prescription: subject_id, hadm_id, prescription_start, pre_charttime and
// post_charttime (the group's farthest paired values, so the final-table reader's gap
// figures and --max-gap-hours hold for every analyte), pre_<a>/post_<a> with their own
// pre_<a>_charttime/post_<a>_charttime, then prescription_drug (the drug with its route,
// as embedded), drug_name, route, prescription_dose_val_rx (parsed; empty when missing)
// and prescription_dose_unit_rx. Missing values are empty cells.
func (rd *reader) writeTable(path string, slots []slot) error {
	if strings.HasPrefix(path, "s3://") {
		return fmt.Errorf("table %s: expected a local file", path)
	}
	return atomicfile.WriteGzipByName(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		rd.tableRows(bw, slots)
		return bw.Flush()
	})
}

func (rd *reader) tableRows(w *bufio.Writer, slots []slot) {
	na := len(rd.an)
	h := []string{"subject_id", "hadm_id", "prescription_start", "pre_charttime", "post_charttime"}
	for _, a := range rd.an {
		h = append(h, "pre_"+a.Name, "post_"+a.Name)
	}
	for _, a := range rd.an {
		h = append(h, "pre_"+a.Name+"_charttime", "post_"+a.Name+"_charttime")
	}
	h = append(h, "prescription_drug", "drug_name", "route", "prescription_dose_val_rx", "prescription_dose_unit_rx")
	w.WriteString(strings.Join(h, ",") + "\n")
	var b []byte
	for _, gi := range rd.keptGroups {
		g := rd.groups[gi]
		s := slots[gi*na : (gi+1)*na]
		// the group's part of the row, shared by its prescriptions
		b = b[:0]
		b = strconv.AppendInt(b, g.subject, 10)
		b = append(b, ',')
		if g.hadm != 0 {
			b = strconv.AppendInt(b, g.hadm, 10)
		}
		b = append(b, ',')
		b = appendTime(b, g.start, rd.rx.dateOnly, 'T')
		var farPre, farPost int32 = -1, -1
		for a := range s {
			if s[a].preDT >= 0 && s[a].postDT >= 0 {
				farPre, farPost = max(farPre, s[a].preDT), max(farPost, s[a].postDT)
			}
		}
		b = append(b, ',')
		b = appendAt(b, g.start, -int64(farPre), farPre >= 0)
		b = append(b, ',')
		b = appendAt(b, g.start, int64(farPost), farPost >= 0)
		for a := range s {
			b = append(b, ',')
			b = appendValue(b, s[a].preV, s[a].preDT >= 0)
			b = append(b, ',')
			b = appendValue(b, s[a].postV, s[a].postDT >= 0)
		}
		for a := range s {
			b = append(b, ',')
			b = appendAt(b, g.start, -int64(s[a].preDT), s[a].preDT >= 0)
			b = append(b, ',')
			b = appendAt(b, g.start, int64(s[a].postDT), s[a].postDT >= 0)
		}
		for _, r := range rd.rx.rows[g.lo:g.hi] {
			w.Write(b)
			row := make([]byte, 0, 96)
			row = append(row, ',')
			row = csvText(row, rd.rx.drugs[r.drug])
			row = append(row, ',')
			row = csvText(row, rd.rx.names[r.drug][0])
			row = append(row, ',')
			row = csvText(row, rd.rx.names[r.drug][1])
			row = append(row, ',')
			if !math.IsNaN(float64(r.dose)) {
				row = strconv.AppendFloat(row, float64(r.dose), 'g', -1, 32)
			}
			row = append(row, ',')
			row = csvText(row, rd.rx.units[r.unit])
			row = append(row, '\n')
			w.Write(row)
		}
	}
}

func appendAt(b []byte, start, off int64, ok bool) []byte {
	if !ok {
		return b
	}
	return appendTime(b, start+off, false, 'T')
}

func appendValue(b []byte, v float32, ok bool) []byte {
	if !ok {
		return b
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}
