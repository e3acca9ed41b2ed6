package mimic

import (
	"context"
	"io"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// readLabItems reads d_labitems' itemids and labels (for --analytes given as labels).
func readLabItems(ctx context.Context, name string, store pipeline.ObjectStore) ([]labItem, pipeline.Source, error) {
	f, err := pipeline.OpenTable(ctx, name, store)
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	defer f.Close()
	cr := newCSVReader(f, name)
	idx, err := cr.header()
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	cols, err := columns(name, idx, "itemid", "label")
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	var out []labItem
	for {
		rec, err := cr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, pipeline.Source{}, err
		}
		if len(rec) <= max(cols[0], cols[1]) {
			return nil, pipeline.Source{}, cr.cellError(len(rec)-1, "", "row has "+itoa(len(rec))+" columns; expected as many as the header")
		}
		id, ok := atoi(rec[cols[0]])
		if !ok {
			return nil, pipeline.Source{}, cr.cellError(cols[0], "itemid", "expected a numeric itemid, got "+quote(rec[cols[0]]))
		}
		out = append(out, labItem{ID: id, Label: strings.TrimSpace(string(rec[cols[1]]))})
	}
	src, err := f.Source(len(out))
	return out, src, err
}

// admission is one hospital stay, for labs charted without a hadm_id.
type admission struct {
	hadm     int64
	from, to int64
}

// readAdmissions reads admissions' stays per subject.
func readAdmissions(ctx context.Context, name string, store pipeline.ObjectStore) (map[int64][]admission, pipeline.Source, error) {
	f, err := pipeline.OpenTable(ctx, name, store)
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	defer f.Close()
	cr := newCSVReader(f, name)
	idx, err := cr.header()
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	cols, err := columns(name, idx, "subject_id", "hadm_id", "admittime", "dischtime")
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	names := []string{"subject_id", "hadm_id", "admittime", "dischtime"}
	out := map[int64][]admission{}
	n := 0
	for {
		rec, err := cr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, pipeline.Source{}, err
		}
		n++
		var v [4]int64
		for k, c := range cols {
			if c >= len(rec) {
				return nil, pipeline.Source{}, cr.cellError(len(rec)-1, names[k], "row has "+itoa(len(rec))+" columns; expected as many as the header")
			}
			var ok bool
			if k < 2 {
				v[k], ok = atoi(rec[c])
			} else {
				v[k], ok = parseTime(rec[c])
			}
			if !ok {
				return nil, pipeline.Source{}, cr.cellError(c, names[k], "expected a number or a time, got "+quote(rec[c]))
			}
		}
		out[v[0]] = append(out[v[0]], admission{hadm: v[1], from: v[2], to: v[3]})
	}
	src, err := f.Source(n)
	return out, src, err
}

// admissionAt is the subject's admission during t, or 0.
func admissionAt(adm []admission, t int64) int64 {
	for _, a := range adm {
		if t >= a.from && t <= a.to {
			return a.hadm
		}
	}
	return 0
}
