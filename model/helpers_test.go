package model

import "github.com/blueblood/blueblood/pipeline"

func cloneSamples(in []pipeline.Sample) []pipeline.Sample {
	out := make([]pipeline.Sample, len(in))
	for i, s := range in {
		s.Pre = append([]float32(nil), s.Pre...)
		s.PreObserved = append([]bool(nil), s.PreObserved...)
		s.Post = append([]float32(nil), s.Post...)
		s.PostObserved = append([]bool(nil), s.PostObserved...)
		s.Embeddings = append([][]float32(nil), s.Embeddings...) // rows stay shared: read-only
		s.Doses = append([]float32(nil), s.Doses...)
		s.Units = append([]string(nil), s.Units...)
		out[i] = s
	}
	return out
}
