package mimic

import (
	"context"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// readLabItems reads d_labitems' itemids and labels (for --analytes given as labels).
func readLabItems(ctx context.Context, name string, store pipeline.ObjectStore) ([]labItem, pipeline.Source, error) {
	t, err := openTable(ctx, name, store, false)
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	defer t.Close()
	cols, err := columns(name, t.idx, "itemid", "label")
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	var out []labItem
	err = t.each(ctx, max(cols[0], cols[1])+1, func(rec [][]byte) error {
		id, err := t.itemID(rec, cols[0])
		if err != nil {
			return err
		}
		out = append(out, labItem{ID: id, Label: strings.TrimSpace(string(rec[cols[1]]))})
		return nil
	})
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	src, err := t.source()
	return out, src, err
}

// admission is one hospital stay, for labs charted without a hadm_id.
type admission struct {
	hadm     int64
	from, to int64
}

// readAdmissions reads admissions' stays per subject.
func readAdmissions(ctx context.Context, name string, store pipeline.ObjectStore) (map[int64][]admission, pipeline.Source, error) {
	names := []string{"subject_id", "hadm_id", "admittime", "dischtime"}
	out := map[int64][]admission{}
	src, err := readIDTimes(ctx, name, store, names, names, 2, func(v []int64) {
		out[v[0]] = append(out[v[0]], admission{hadm: v[1], from: v[2], to: v[3]})
	})
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	return out, src, nil
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
