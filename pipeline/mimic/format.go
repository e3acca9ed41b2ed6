// Package mimic reads the native tables of MIMIC-III and MIMIC-IV (prescriptions,
// labevents, d_labitems, admissions) into samples: per group of one subject's
// prescriptions that start together, the value of each analyte before and after it,
// paired within time windows while labevents streams by once.
package mimic

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// Format is the MIMIC input format: a folder (or s3:// prefix) laid out as PhysioNet
// ships MIMIC-IV (hosp/, icu/) or MIMIC-III, or the tables of such a folder.
type Format struct{}

// Name is the format's name.
func (Format) Name() string { return "mimic" }

// Detect reports whether input is a MIMIC folder or table, from names and one header.
func (Format) Detect(ctx context.Context, input string, opt pipeline.ReadOptions) (bool, error) {
	return looksNative(ctx, input, opt.S3)
}

// Read reads one MIMIC copy (its tables may come as several inputs) into samples.
func (Format) Read(ctx context.Context, inputs []string, opt pipeline.ReadOptions) (*pipeline.Dataset, *pipeline.Report, error) {
	p := opt.Pairing.WithDefaults()
	if err := p.Check(); err != nil {
		return nil, nil, err
	}
	ts, err := findTables(ctx, inputs, opt.S3)
	if err != nil {
		return nil, nil, err
	}
	rd := &reader{ctx: ctx, opt: opt, p: p, ts: ts, rep: pipeline.Report{RejectReasons: map[string]int{}}}
	return rd.read()
}

// reader is one Read's state.
type reader struct {
	ctx     context.Context
	opt     pipeline.ReadOptions
	p       pipeline.Pairing
	ts      tableSet
	rep     pipeline.Report
	pr      pipeline.PairReport
	sources []pipeline.Source
	an      []analyte
	rx      *rxTable
	groups  []group
	// per subject index: its groups' range; subject ids by index
	bySub      [][2]int32
	subjects   map[int64]int32
	adm        map[int64][]admission
	labs       labStats
	keptGroups []int // the groups that became samples, in sample order
}

func (rd *reader) read() (*pipeline.Dataset, *pipeline.Report, error) {
	var items []labItem
	if n := rd.ts[tLabitems]; n != "" {
		it, src, err := readLabItems(rd.ctx, n, rd.opt.S3)
		if err != nil {
			return nil, nil, err
		}
		items = it
		rd.addSource(src)
	}
	an, err := resolveAnalytes(rd.p.Analytes, items)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(rd.p.Analytes) != PresetBloodGas && strings.TrimSpace(rd.p.Analytes) != PresetChemistry && items == nil {
		return nil, nil, fmt.Errorf("analytes %q: no d_labitems table to look labels and itemids up in; expected d_labitems.csv(.gz) beside labevents", rd.p.Analytes)
	}
	rd.an = an
	if l := rd.opt.Request.Layout; l != nil {
		if names := rd.names(); !slices.Equal(names, l.Analytes) {
			return nil, nil, fmt.Errorf("analytes %s differ from the model's %s; expected the analytes the model was trained on", strings.Join(names, ","), strings.Join(l.Analytes, ","))
		}
	}
	if rd.rx, err = readPrescriptions(rd.ctx, rd.ts[tPrescriptions], rd.opt.S3); err != nil {
		return nil, nil, err
	}
	rd.addSource(rd.rx.source)
	if rd.p.Mode == pipeline.PairingOriginal {
		rd.rx.distinctDrugs()
	}
	rd.pr.Format = "mimic-iv"
	if rd.rx.dateOnly {
		rd.pr.Format = "mimic-iii"
	}
	if n := rd.ts[tAdmissions]; n != "" {
		adm, src, err := readAdmissions(rd.ctx, n, rd.opt.S3)
		if err != nil {
			return nil, nil, err
		}
		rd.adm = adm
		rd.addSource(src)
	}
	rd.groups = rd.rx.groups()
	rd.subjects = map[int64]int32{}
	for i, g := range rd.groups {
		if i == 0 || rd.groups[i-1].subject != g.subject {
			rd.subjects[g.subject] = int32(len(rd.bySub))
			rd.bySub = append(rd.bySub, [2]int32{int32(i), int32(i)})
		}
		rd.bySub[len(rd.bySub)-1][1] = int32(i + 1)
	}
	var slots []slot
	if rd.p.Mode == pipeline.PairingOriginal {
		if slots, err = rd.pairOriginal(); err != nil {
			return nil, nil, err
		}
	} else {
		w := newWindowPairer(rd.groups, rd.bySub, len(an), rd.p.PreWindowHours, rd.p.MinLagHours, rd.p.PostWindowHours, rd.p.AnyAdmission)
		st, src, err := streamLabs(rd.ctx, rd.ts[tLabevents], rd.opt.S3, an, rd.subjects, rd.adm, w.add)
		if err != nil {
			return nil, nil, err
		}
		rd.labs = st
		rd.addSource(src)
		slots = w.slots
		computeDerived(an, slots, len(rd.groups))
	}
	return rd.build(slots)
}

func (rd *reader) addSource(s pipeline.Source) {
	rd.sources = append(rd.sources, s)
	rd.rep.Files++
	rd.rep.RowsRead += s.Rows
}

func (rd *reader) names() []string {
	out := make([]string, len(rd.an))
	for i, a := range rd.an {
		out[i] = a.Name
	}
	return out
}

// units are the analytes' units: the preset's, or the valueuom most seen.
func (rd *reader) units() []string {
	out := make([]string, len(rd.an))
	for i, a := range rd.an {
		out[i] = a.Unit
		best := 0
		if i < len(rd.labs.units) {
			for u, n := range rd.labs.units[i] {
				if n > best || (n == best && u < out[i]) {
					out[i], best = u, n
				}
			}
		}
	}
	return out
}

// computeDerived fills the blood-gas values computed from others of the same blood gas
// (aado2_calc and pao2fio2 from po2, pco2 and the lab's fio2), where those three were
// paired at the same time.
func computeDerived(an []analyte, slots []slot, groups int) {
	pos := map[string]int{}
	for i, a := range an {
		pos[a.Name] = i
	}
	po2, ok1 := pos["po2"]
	pco2, ok2 := pos["pco2"]
	fio2, ok3 := pos["fio2"]
	aado2Pos, ok4 := pos["aado2_calc"]
	ratio, ok5 := pos["pao2fio2"]
	if !ok1 || !ok2 || !ok3 || !(ok4 || ok5) {
		return
	}
	na := len(an)
	for g := 0; g < groups; g++ {
		s := slots[g*na : (g+1)*na]
		for _, pre := range []bool{true, false} {
			dt := func(k int) int32 {
				if pre {
					return s[k].preDT
				}
				return s[k].postDT
			}
			val := func(k int) float64 {
				if pre {
					return float64(s[k].preV)
				}
				return float64(s[k].postV)
			}
			if dt(po2) < 0 || dt(po2) != dt(fio2) {
				continue
			}
			f, o := val(fio2), val(po2)
			set := func(k int, v float64) {
				if pre {
					s[k].preDT, s[k].preV = dt(po2), float32(v)
				} else {
					s[k].postDT, s[k].postV = dt(po2), float32(v)
				}
			}
			if ok4 && dt(pco2) == dt(po2) {
				set(aado2Pos, aado2(f, val(pco2), o))
			}
			if ok5 && f > 0 {
				set(ratio, pfRatio(o, f))
			}
		}
	}
}
