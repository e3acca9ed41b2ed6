package mimic

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// build turns the paired slots into samples (groups with at least one analyte paired
// before and after), and fills the report.
func (rd *reader) build(slots []slot) (*pipeline.Dataset, *pipeline.Report, error) {
	na := len(rd.an)
	dim := pipeline.DefaultEmbeddingDim
	if rd.opt.Request.Layout != nil {
		dim = rd.opt.Request.Layout.EmbeddingDim
	} else if rd.opt.EmbeddingDim > 0 {
		dim = rd.opt.EmbeddingDim
	}
	embs := make([][]float32, len(rd.rx.drugs))
	embed := func(d int32) ([]float32, error) {
		if embs[d] != nil {
			return embs[d], nil
		}
		text := rd.rx.drugs[d]
		e, err := rd.opt.Request.EmbedName(text, dim)
		if err != nil {
			return nil, fmt.Errorf("%s: drug %q: %w", rd.ts[tPrescriptions], text, err)
		}
		embs[d] = e
		return e, nil
	}
	if rd.opt.Request.CheckUnit != nil {
		for _, u := range rd.rx.units {
			if err := rd.opt.Request.CheckUnit(u); err != nil {
				return nil, nil, fmt.Errorf("%s: column dose_unit_rx: %w", rd.ts[tPrescriptions], err)
			}
		}
	}
	ap := make([]pipeline.AnalytePairs, na)
	preH, postH := make([][]float64, na), make([][]float64, na)
	pairSubs := make([]map[int64]bool, na)
	for a := range ap {
		ap[a] = pipeline.AnalytePairs{Analyte: rd.an[a].Name, Unit: rd.an[a].Unit, ItemIDs: rd.an[a].ItemIDs}
		pairSubs[a] = map[int64]bool{}
	}
	var samples []pipeline.Sample
	rd.keptGroups = rd.keptGroups[:0]
	for gi, g := range rd.groups {
		s := slots[gi*na : (gi+1)*na]
		paired := false
		for a := range s {
			if s[a].preDT >= 0 && s[a].postDT >= 0 {
				paired = true
			}
		}
		if !paired {
			rd.pr.GroupsDropped++
			continue
		}
		smp := pipeline.Sample{Subject: strconv.FormatInt(g.subject, 10), Start: formatTime(g.start, rd.rx.dateOnly),
			Pre: make([]float32, na), PreObserved: make([]bool, na), Post: make([]float32, na), PostObserved: make([]bool, na)}
		crossGroup := false
		for a := range s {
			crossGroup = crossGroup || (s[a].preDT >= 0 && s[a].preCross) || (s[a].postDT >= 0 && s[a].postCross)
			if s[a].preDT >= 0 {
				smp.Pre[a], smp.PreObserved[a] = s[a].preV, true
				ap[a].Pre++
				if s[a].preCross {
					rd.pr.CrossAdmission++
				}
			}
			if s[a].postDT >= 0 {
				smp.Post[a], smp.PostObserved[a] = s[a].postV, true
				ap[a].Post++
				if s[a].postCross {
					rd.pr.CrossAdmission++
				}
			}
			if s[a].preDT >= 0 && s[a].postDT >= 0 {
				ap[a].Pairs++
				pairSubs[a][g.subject] = true
				preH[a] = append(preH[a], float64(s[a].preDT)/3600)
				postH[a] = append(postH[a], float64(s[a].postDT)/3600)
			}
		}
		if crossGroup {
			rd.pr.CrossAdmissionGroups++
		}
		n := int(g.hi - g.lo)
		smp.Embeddings = make([][]float32, 0, n)
		smp.Doses = make([]float32, 0, n)
		smp.Units = make([]string, 0, n)
		smp.Drugs = make([]string, 0, n)
		for _, r := range rd.rx.rows[g.lo:g.hi] {
			e, err := embed(r.drug)
			if err != nil {
				return nil, nil, err
			}
			smp.Embeddings = append(smp.Embeddings, e) // one shared row per drug
			smp.Doses = append(smp.Doses, r.dose)
			smp.Units = append(smp.Units, rd.rx.units[r.unit])
			smp.Drugs = append(smp.Drugs, rd.rx.drugs[r.drug])
		}
		samples = append(samples, smp)
		rd.keptGroups = append(rd.keptGroups, gi)
	}
	if len(samples) == 0 {
		return nil, nil, fmt.Errorf("%s: no prescription group has a value of any of %s before and after it within the windows; expected at least one (try wider windows or other analytes)",
			rd.ts[tLabevents], strings.Join(rd.names(), ", "))
	}
	for a := range ap {
		ap[a].PairSubjects = len(pairSubs[a])
		ap[a].PreHours, ap[a].PostHours = pipeline.Quantiles(preH[a]), pipeline.Quantiles(postH[a])
	}
	rd.pr.Pairing = rd.p
	rd.pr.GroupsFormed = len(rd.groups)
	rd.pr.LabRows, rd.pr.LabValuesKept = rd.labs.rows, rd.labs.kept
	rd.pr.UnparsedDoses, rd.pr.NoStart = rd.rx.unparsed, rd.rx.noStart
	rd.pr.Analytes = ap
	for _, a := range rd.an {
		switch a.Source {
		case "chartevents":
			rd.pr.Notes = append(rd.pr.Notes, a.Name+" comes from chartevents, which is not read: always missing")
		case "text":
			rd.pr.Notes = append(rd.pr.Notes, a.Name+" is a text result (no numeric value): always missing")
		}
	}
	units := rd.units()
	for a := range ap {
		ap[a].Unit = units[a]
	}
	rd.rep.DoseRanges = rd.rx.ranges
	rd.rep.MissingDoses = rd.rx.missingDose + rd.rx.unparsed
	layout := pipeline.Layout{Analytes: rd.names(), EmbeddingDim: dim, BlockRows: pipeline.DefaultBlockRows, Units: units}
	layout.BlockFeatures = layout.RxFeatures()
	if rd.opt.Request.Layout != nil {
		layout = *rd.opt.Request.Layout
	}
	rd.rep.FillStats(samples, layout.Analytes)
	if rd.p.Table != "" {
		if err := rd.writeTable(rd.p.Table, slots); err != nil {
			return nil, nil, err
		}
	}
	pr := rd.pr
	rd.rep.Pairs = &pr
	rep := rd.rep
	return &pipeline.Dataset{Layout: layout, Samples: samples, Sources: rd.sources}, &rep, nil
}
