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
	if err := rd.decideMinusOne(); err != nil {
		return nil, nil, err
	}
	groups := len(rd.samples)
	rd.applyGaps()
	if len(rd.samples) == 0 {
		return nil, nil, fmt.Errorf("no samples left: all %d groups have a test more than %g hours from the prescription (max gap)", rd.rep.Gaps.DroppedOverMax, rd.opt.MaxGapHours)
	}
	if len(rd.samples) == groups {
		compactSamples(rd.samples[rd.compacted:])
	} else {
		compactSamples(rd.samples) // the max gap dropped samples: indices moved
	}
	rd.rep.fillStats(rd.samples, rd.layout.Analytes)
	ds := &Dataset{Layout: rd.layout, Samples: rd.samples, Sources: rd.sources, Kind: rd.firstKind}
	if rd.headerOK {
		ds.Header = rd.header
	}
	if rd.opt.Request.RowSamples && len(rd.rx) == 0 && len(rd.samples) == groups {
		ds.RowSamples = rd.rowSample
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

// decideMinusOne settles, per analyte, what the -1.0 missing code meant: as the layout or
// ReadOptions decided, as ReadOptions.MinusOne sets it, or by the test in minusone.go.
// Cells read as the code are then marked observed for the analytes where -1 is real; the
// decision goes into the layout (so serving reads requests the same way) and the report.
func (rd *tableReader) decideMinusOne() error {
	analytes := rd.layout.Analytes
	real := make([]bool, len(analytes))
	decided := rd.opt.Request.Layout != nil || rd.opt.MinusOneDecided
	if decided {
		list := rd.opt.MinusOneReal
		if rd.opt.Request.Layout != nil {
			list = rd.opt.Request.Layout.MinusOneReal
		}
		for j, a := range analytes {
			real[j] = slices.Contains(list, a)
		}
	} else if err := rd.opt.MinusOne.check(analytes); err != nil {
		return err
	}
	rd.layout.MinusOneReal = nil
	for j, a := range analytes {
		var t minusOneTally
		if j < len(rd.minusOne) {
			t = rd.minusOne[j]
		}
		mc := MissingCode{Analyte: a, MinusOnes: t.minusOnes, OtherNegatives: t.otherNeg,
			NeighbourMedian: t.neighbourMedian(), Neighbours: t.neighbours(), DecidedBy: MinusOneByData}
		switch mode := rd.opt.MinusOne.mode(a); {
		case decided:
			mc.MinusOneMissing, mc.DecidedBy = !real[j], MinusOneByLayout
		case mode == MinusOneAuto:
			mc.MinusOneMissing, mc.Ambiguous = t.decide()
		default:
			mc.MinusOneMissing, mc.DecidedBy = mode == MinusOneMissing, MinusOneBySetting
		}
		real[j] = !mc.MinusOneMissing
		if real[j] {
			rd.layout.MinusOneReal = append(rd.layout.MinusOneReal, a)
		}
		if t.minusOnes+t.otherNeg > 0 {
			rd.rep.MissingCodes = append(rd.rep.MissingCodes, mc)
		}
	}
	if len(rd.minusOne) == 0 {
		return nil
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
	return nil
}
