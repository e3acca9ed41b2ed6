package pipeline

import (
	"errors"
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
	if rd.opt.Layout == nil {
		rd.layout.BlockRows = DefaultBlockRows
		rd.layout.BlockFeatures = rd.layout.RxFeatures()
	}
	rd.rep.fillStats(rd.samples, rd.layout.Analytes)
	ds := &Dataset{Layout: rd.layout, Samples: rd.samples, Sources: rd.sources}
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
