package model

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"

	"github.com/blueblood/blueblood/pipeline"
)

// DrugEffect is what the model predicts one drug does, averaged over held-out cases that
// have it: the change in each analyte (original units) between the case with the drug's
// row and without it, with the dose as prescribed and with the drug's typical dose.
type DrugEffect struct {
	Drug string `json:"drug"`
	// TrainRows is how often the drug was prescribed in training; Cases is the number of
	// held-out cases behind the means.
	TrainRows int `json:"train_rows"`
	Cases     int `json:"cases"`
	// TypicalDose is the median training dose, in the drug's most frequent training unit
	// (Unit); 0 and MeanTypical nil when training had no dose for it.
	TypicalDose float64   `json:"typical_dose,omitempty"`
	Unit        string    `json:"unit,omitempty"`
	Mean        []float64 `json:"mean_change"`                   // per analyte, dose as prescribed
	MeanTypical []float64 `json:"mean_change_typical,omitempty"` // per analyte, at TypicalDose
	// MeanStd is Mean in the training split's standard deviations (0 where an analyte
	// has none), so drugs' effects on different analytes compare.
	MeanStd []float64 `json:"mean_change_std"`
}

// maxDrugCases bounds the held-out cases explained per drug, so the report costs at most
// 3 x maxDrugCases predictions per drug.
const maxDrugCases = 2000

// drugKey names a prescription row's drug: its name where the table gave one, else a short
// fingerprint of its embedding (the same vector is the same drug).
func drugKey(s *pipeline.Sample, i int) string {
	if i < len(s.Drugs) && s.Drugs[i] != "" {
		return s.Drugs[i]
	}
	h := sha256.New()
	var b [4]byte
	for _, v := range s.Embeddings[i] {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return "embedding " + hex.EncodeToString(h.Sum(nil)[:4])
}

// drugKeys is drugKey remembered per embedding row: readers share one row per distinct
// embedding, so a million training rows hash a few hundred embeddings, not each row.
type drugKeys map[rowID]string

// rowID identifies an embedding row by where it starts and how long it is.
type rowID struct {
	at *float32
	n  int
}

func (dk drugKeys) key(s *pipeline.Sample, i int) string {
	e := s.Embeddings[i]
	if (i < len(s.Drugs) && s.Drugs[i] != "") || len(e) == 0 {
		return drugKey(s, i)
	}
	id := rowID{&e[0], len(e)}
	k, ok := dk[id]
	if !ok {
		k = drugKey(s, i)
		dk[id] = k
	}
	return k
}

// DrugEffects averages, for the top most frequent drugs in train, the effect the model
// predicts their rows have in heldOut (each case counted once per drug, at the drug's
// first row). Drugs with no held-out case are left out.
func DrugEffects(m *Model, train, heldOut []pipeline.Sample, top int) ([]DrugEffect, error) {
	type stats struct {
		rows  int
		doses []float64
		units map[string]int
	}
	byDrug := map[string]*stats{}
	dk := drugKeys{}
	for c := range train {
		s := &train[c]
		for i := 0; i < s.NumRx(); i++ {
			k := dk.key(s, i)
			st := byDrug[k]
			if st == nil {
				st = &stats{units: map[string]int{}}
				byDrug[k] = st
			}
			st.rows++
			st.units[s.Units[i]]++
			if d := float64(s.Doses[i]); !math.IsNaN(d) {
				st.doses = append(st.doses, d)
			}
		}
	}
	keys := make([]string, 0, len(byDrug))
	for k := range byDrug {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(byDrug[b].rows, byDrug[a].rows), cmp.Compare(a, b))
	})
	// held-out rows' keys, worked out once (a key may hash an embedding) for all drugs
	heldKeys := make([][]string, len(heldOut))
	keysOf := func(c int) []string {
		if heldKeys[c] == nil {
			s := &heldOut[c]
			heldKeys[c] = make([]string, s.NumRx())
			for r := range heldKeys[c] {
				heldKeys[c][r] = dk.key(s, r)
			}
		}
		return heldKeys[c]
	}
	var out []DrugEffect
	a := len(m.cfg.Layout.Analytes)
	for _, k := range keys {
		if len(out) == top {
			break
		}
		st := byDrug[k]
		e := DrugEffect{Drug: k, TrainRows: st.rows, Mean: make([]float64, a)}
		if len(st.doses) > 0 {
			slices.Sort(st.doses)
			e.TypicalDose = st.doses[len(st.doses)/2]
			e.Unit = mostFrequent(st.units)
			e.MeanTypical = make([]float64, a)
		}
		var variants []pipeline.Sample
		for c := range heldOut {
			s := &heldOut[c]
			i := slices.Index(keysOf(c), k)
			if i < 0 {
				continue
			}
			variants = append(variants, *s, withoutRow(s, i))
			if e.MeanTypical != nil {
				variants = append(variants, withDose(s, i, float32(e.TypicalDose)))
			}
			if e.Cases++; e.Cases == maxDrugCases {
				break
			}
		}
		if e.Cases == 0 {
			continue
		}
		preds, err := m.Predict(variants)
		if err != nil {
			return nil, err
		}
		step := 2
		if e.MeanTypical != nil {
			step = 3
		}
		for v := 0; v < len(preds); v += step {
			with, without := preds[v], preds[v+1]
			for j := 0; j < a; j++ {
				e.Mean[j] += float64(with[j]-without[j]) / float64(e.Cases)
				if e.MeanTypical != nil {
					e.MeanTypical[j] += float64(preds[v+2][j]-without[j]) / float64(e.Cases)
				}
			}
		}
		e.MeanStd = make([]float64, a)
		for j := range e.MeanStd {
			if sd := m.sc.Std[j]; sd > 0 {
				e.MeanStd[j] = e.Mean[j] / sd
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func mostFrequent(counts map[string]int) string {
	best, n := "", -1
	for k, c := range counts {
		if c > n || (c == n && k < best) {
			best, n = k, c
		}
	}
	return best
}
