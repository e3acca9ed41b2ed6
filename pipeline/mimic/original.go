package mimic

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// The original final table's rule (mimic-tables.md §2-3): blood gases are mimic-code's
// first-day arterial blood gases (LABEVENTS of an ICU stay's admission charted from 6 h
// before to 24 h after its intime, pivoted per stay and chart time with max(), kept when
// po2 is present and the specimen is arterial or the logistic model says so); each
// (subject, start) group pairs the subject's latest blood gas before its start with the
// earliest after it, at any distance and from any admission; one row per distinct drug.

const (
	itemSpecimen = 50800
	itemO2Flow   = 50815
)

// icuStay is one ICU stay's first-day window.
type icuStay struct {
	id, subject int64
	from, to    int64
}

// bgPanel is one pivoted blood gas (stay, chart time).
type bgPanel struct {
	subject  int64
	hadm     int64
	t        int64
	v        []float64 // per analyte, then o2flow; NaN = null
	specimen string
}

// pairOriginal pairs by the original rule and returns the slots windows would.
func (rd *reader) pairOriginal() ([]slot, error) {
	stays, src, err := readStays(rd.ctx, rd.ts[tICUStays], rd.opt.S3)
	if err != nil {
		return nil, err
	}
	rd.addSource(src)
	an := rd.an
	na := len(an)
	idx := map[int64]int{} // itemid -> analyte, na = o2flow, na+1 = specimen
	for a, x := range an {
		for _, id := range x.ItemIDs {
			idx[id] = a
		}
	}
	idx[itemO2Flow] = na
	idx[itemSpecimen] = na + 1
	o2flow := analyte{Min: 0, Max: 70}
	panels := map[[2]int64]*bgPanel{}
	st, src, err := streamRaw(rd.ctx, rd.ts[tLabevents], rd.opt.S3, func(item int64) bool { _, ok := idx[item]; return ok }, func(item, sub, hadm, t int64, value []byte, num float64, hasNum bool) {
		a := idx[item]
		for _, s := range stays[hadm] {
			if t < s.from || t > s.to {
				continue
			}
			key := [2]int64{s.id, t}
			p := panels[key]
			if p == nil {
				p = &bgPanel{subject: s.subject, hadm: hadm, t: t, v: make([]float64, na+1)}
				for k := range p.v {
					p.v[k] = math.NaN()
				}
				panels[key] = p
			}
			switch {
			case a == na+1:
				if v := string(value); v > p.specimen {
					p.specimen = v
				}
			case !hasNum:
			case a == na && !o2flow.keep(num):
			case a < na && !an[a].keep(num):
			default:
				if math.IsNaN(p.v[a]) || num > p.v[a] {
					p.v[a] = num
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	rd.labs = st
	rd.addSource(src)
	// arterial blood gases with po2, per subject, by time
	pos := map[string]int{}
	for a, x := range an {
		pos[x.Name] = a
	}
	bySubject := map[int64][]*bgPanel{}
	for _, p := range panels {
		if math.IsNaN(p.v[pos["po2"]]) {
			continue
		}
		if p.specimen != "ART" && arterialProbability(p, pos, na) <= 0.75 {
			continue
		}
		bySubject[p.subject] = append(bySubject[p.subject], p)
	}
	for _, ps := range bySubject {
		sort.Slice(ps, func(i, j int) bool { return ps[i].t < ps[j].t })
	}
	slots := newSlots(len(rd.groups) * na)
	for gi, g := range rd.groups {
		ps := bySubject[g.subject]
		k := sort.Search(len(ps), func(i int) bool { return ps[i].t >= g.start })
		var pre, post *bgPanel
		if k > 0 {
			pre = ps[k-1]
		}
		for j := k; j < len(ps); j++ {
			if ps[j].t > g.start {
				post = ps[j]
				break
			}
		}
		if pre == nil || post == nil {
			continue
		}
		s := slots[gi*na : (gi+1)*na]
		for _, c := range []struct {
			p   *bgPanel
			pre bool
		}{{pre, true}, {post, false}} {
			vals := derive(c.p, pos, na)
			for a := 0; a < na; a++ {
				if math.IsNaN(vals[a]) {
					continue
				}
				cross := c.p.hadm != g.hadm
				if c.pre {
					s[a].preDT, s[a].preV, s[a].preCross = offset(g.start-c.p.t), float32(vals[a]), cross
				} else {
					s[a].postDT, s[a].postV, s[a].postCross = offset(c.p.t-g.start), float32(vals[a]), cross
				}
			}
		}
	}
	return slots, nil
}

// offset is a gap in seconds, clamped to what a slot holds (68 years).
func offset(d int64) int32 { return int32(min(d, math.MaxInt32)) }

// derive adds aado2_calc and pao2fio2 from po2, pco2 and fio2 (the lab's; chartevents'
// fio2 is not read) to a panel's values.
func derive(p *bgPanel, pos map[string]int, na int) []float64 {
	v := append([]float64(nil), p.v[:na]...)
	f := v[pos["fio2"]]
	po2, pco2 := v[pos["po2"]], v[pos["pco2"]]
	if k, ok := pos["aado2_calc"]; ok && !math.IsNaN(f) && !math.IsNaN(pco2) && !math.IsNaN(po2) {
		v[k] = aado2(f, pco2, po2)
	}
	if k, ok := pos["pao2fio2"]; ok && !math.IsNaN(f) && !math.IsNaN(po2) {
		v[k] = pfRatio(po2, f)
	}
	return v
}

// aado2 is the alveolar-arterial oxygen gradient (mmHg) from the inspired oxygen share
// fio2 (%) and the blood gas's pco2 and po2, at sea-level pressure and a respiratory
// quotient of 0.8, as mimic-code computes aado2_calc.
func aado2(fio2, pco2, po2 float64) float64 { return (fio2/100)*(760-47) - pco2/0.8 - po2 }

// pfRatio is po2 over the inspired oxygen fraction, with fio2 in %.
func pfRatio(po2, fio2 float64) float64 { return 100 * po2 / fio2 }

// arterialProbability is mimic-code's logistic model for a blood gas without an 'ART'
// specimen; null inputs take its imputed constants (spo2 and fio2 from chartevents are
// always null here).
func arterialProbability(p *bgPanel, pos map[string]int, na int) float64 {
	term := func(name string, coef, imputed float64) float64 {
		var v float64
		if name == "o2flow" {
			v = p.v[na]
		} else if k, ok := pos[name]; ok {
			v = p.v[k]
		} else {
			v = math.NaN()
		}
		if math.IsNaN(v) {
			return coef * imputed
		}
		return coef * v
	}
	z := -0.02544 + 0.04598*p.v[pos["po2"]] +
		term("spo2", -0.15356, 97.49420773) +
		term("fio2_chartevents", 0.00621, 51.49550202) +
		term("hemoglobin", 0.10559, 10.32307692) +
		term("so2", 0.13251, 93.66539661) +
		term("pco2", -0.01511, 42.08866069) +
		term("fio2", 0.01480, 63.97388438) +
		term("aado2", -0.00200, 442.21186240) +
		term("bicarbonate", -0.03220, 22.96356149) +
		term("totalco2", 0.05384, 24.72632668) +
		term("lactate", 0.08202, 3.06436431) +
		term("ph", 0.10956, 7.36233298) +
		term("o2flow", 0.00848, 7.59362889)
	return 1 / (1 + math.Exp(-z))
}

// readStays reads ICU stays' first-day windows ([intime - 6 h, intime + 24 h]) by admission.
func readStays(ctx context.Context, name string, store pipeline.ObjectStore) (map[int64][]icuStay, pipeline.Source, error) {
	if name == "" {
		return nil, pipeline.Source{}, fmt.Errorf("pairing original: no icustays table; expected ICUSTAYS.csv(.gz) (MIMIC-III) or icu/icustays.csv(.gz): the blood gases are the ICU stays' first day")
	}
	out := map[int64][]icuStay{}
	src, err := readIDTimes(ctx, name, store, []string{"icustay_id|stay_id", "subject_id", "hadm_id", "intime"},
		[]string{"icustay_id", "subject_id", "hadm_id", "intime"}, 3, func(v []int64) {
			out[v[2]] = append(out[v[2]], icuStay{id: v[0], subject: v[1], from: v[3] - 6*3600, to: v[3] + 24*3600})
		})
	if err != nil {
		return nil, pipeline.Source{}, err
	}
	return out, src, nil
}

// distinctDrugs keeps, per group, the first row of each drug name: the original table
// has one row per distinct DRUG.
func (rx *rxTable) distinctDrugs() {
	kept := rx.rows[:0]
	seen := map[string]bool{}
	var sub, start int64 = -1, -1
	for _, r := range rx.rows {
		if r.subject != sub || r.start != start {
			clear(seen)
			sub, start = r.subject, r.start
		}
		name := strings.TrimSpace(rx.names[r.drug][0])
		if seen[name] {
			continue
		}
		seen[name] = true
		kept = append(kept, r)
	}
	rx.rows = kept
}
