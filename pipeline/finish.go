package pipeline

import (
	"errors"
	"fmt"
	"slices"
)

func (rd *tableReader) finish() (*Dataset, *Report, error) {
	if len(rd.rx) > 0 || len(rd.blood) > 0 {
		if len(rd.rx) == 0 {
			return nil, nil, errors.New("blood-test table given without a prescriptions table to join it to")
		}
		if len(rd.blood) == 0 {
			return nil, nil, errors.New("prescriptions table given without a blood-test table to join it to")
		}
		rd.join()
	}
	if len(rd.samples) == 0 {
		return nil, nil, errors.New("no samples read from the inputs")
	}
	if !rd.dimSet {
		rd.layout.EmbeddingDim = DefaultEmbeddingDim
	}
	if rd.opt.Request.Layout == nil {
		rd.layout.BlockRows = DefaultBlockRows
		rd.layout.BlockFeatures = rd.layout.RxFeatures()
	}
	rd.decideMinusOne()
	rd.applyGaps()
	if len(rd.samples) == 0 {
		return nil, nil, fmt.Errorf("no samples left: all %d groups have a test more than %g hours from the prescription (max gap)", rd.rep.Gaps.DroppedOverMax, rd.opt.MaxGapHours)
	}
	rd.rep.fillStats(rd.samples, rd.layout.Analytes)
	ds := &Dataset{Layout: rd.layout, Samples: rd.samples, Sources: rd.sources, Kind: rd.firstKind}
	if rd.headerOK {
		ds.Header = rd.header
	}
	rep := rd.rep
	return ds, &rep, nil
}

// fillStats computes the group, subject and missing-value figures of a sample set.
func (r *Report) fillStats(samples []Sample, analytes []string) {
	subjects := map[string]bool{}
	r.Groups, r.Prescriptions, r.LargestGroup, r.GroupsOver20 = len(samples), 0, 0, 0
	preMiss := make([]int, len(analytes))
	postMiss := make([]int, len(analytes))
	for i := range samples {
		s := &samples[i]
		subjects[s.Subject] = true
		n := s.NumRx()
		r.Prescriptions += n
		r.LargestGroup = max(r.LargestGroup, n)
		if n > DefaultBlockRows {
			r.GroupsOver20++
		}
		for j := range analytes {
			if !s.PreObserved[j] {
				preMiss[j]++
			}
			if !s.PostObserved[j] {
				postMiss[j]++
			}
		}
	}
	r.Subjects = len(subjects)
	r.MissingRate = make([]AnalyteMissing, len(analytes))
	for j, a := range analytes {
		r.MissingRate[j] = AnalyteMissing{Analyte: a}
		if len(samples) > 0 {
			r.MissingRate[j].Pre = float64(preMiss[j]) / float64(len(samples))
			r.MissingRate[j].Post = float64(postMiss[j]) / float64(len(samples))
		}
	}
}

// decideMinusOne settles, per analyte, what the -1.0 missing code meant: missing where the
// analyte showed no other negative value (it cannot be negative), a real value where it
// did (base excess) or where the layout or ReadOptions says so. Cells read as the code are
// then marked observed for the analytes where -1 is real; the decision goes into the
// layout and the report.
func (rd *tableReader) decideMinusOne() {
	analytes := rd.layout.Analytes
	real := make([]bool, len(analytes))
	switch {
	case rd.opt.Request.Layout != nil || rd.opt.MinusOneDecided:
		list := rd.opt.MinusOneReal
		if rd.opt.Request.Layout != nil {
			list = rd.opt.Request.Layout.MinusOneReal
		}
		for j, a := range analytes {
			real[j] = slices.Contains(list, a)
		}
	default:
		for j := range analytes {
			real[j] = j < len(rd.otherNeg) && rd.otherNeg[j] > 0
		}
	}
	rd.layout.MinusOneReal = nil
	for j, a := range analytes {
		if real[j] {
			rd.layout.MinusOneReal = append(rd.layout.MinusOneReal, a)
		}
		if j < len(rd.minusOnes) && rd.minusOnes[j]+rd.otherNeg[j] > 0 {
			rd.rep.MissingCodes = append(rd.rep.MissingCodes, MissingCode{Analyte: a,
				MinusOneMissing: !real[j], MinusOnes: rd.minusOnes[j], OtherNegatives: rd.otherNeg[j]})
		}
	}
	if len(rd.minusOnes) == 0 {
		return
	}
	// an unobserved cell holds -1 only where it was the code: observed where -1 is real,
	// else 0 like every other missing cell
	for i := range rd.samples {
		s := &rd.samples[i]
		for j := range analytes {
			if !s.PreObserved[j] && s.Pre[j] == -1 {
				s.PreObserved[j] = real[j]
				if !real[j] {
					s.Pre[j] = 0
				}
			}
			if !s.PostObserved[j] && s.Post[j] == -1 {
				s.PostObserved[j] = real[j]
				if !real[j] {
					s.Post[j] = 0
				}
			}
		}
	}
}
