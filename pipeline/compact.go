package pipeline

// compactChunk is how many samples compactSamples moves at a time: the old slices of a
// chunk become garbage before the next chunk's slabs are allocated, so compacting costs
// a chunk's worth of memory at once, not a second copy of the dataset.
const compactChunk = 4096

// compactSamples moves the samples' value slices into slabs of exactly the size needed,
// one slab per element type and chunk of samples. Readers allocate each slice on its own
// and grow the prescription slices row by row (append doubles their capacity), which at
// a million samples costs about as much again as the values themselves. Every sample's
// slices keep their own capacity limit, so an append to one copies instead of writing
// into its neighbour's values; nil slices stay nil.
func compactSamples(ss []Sample) {
	for lo := 0; lo < len(ss); lo += compactChunk {
		part := ss[lo:min(lo+compactChunk, len(ss))]
		var nf, nb, ne, nu int
		for i := range part {
			s := &part[i]
			nf += len(s.Pre) + len(s.Post) + len(s.Doses)
			nb += len(s.PreObserved) + len(s.PostObserved)
			ne += len(s.Embeddings)
			nu += len(s.Units) + len(s.Drugs)
		}
		f := make([]float32, 0, nf)
		b := make([]bool, 0, nb)
		e := make([][]float32, 0, ne)
		u := make([]string, 0, nu)
		for i := range part {
			s := &part[i]
			s.Pre, f = carve(f, s.Pre)
			s.Post, f = carve(f, s.Post)
			s.Doses, f = carve(f, s.Doses)
			s.PreObserved, b = carve(b, s.PreObserved)
			s.PostObserved, b = carve(b, s.PostObserved)
			s.Embeddings, e = carve(e, s.Embeddings)
			s.Units, u = carve(u, s.Units)
			s.Drugs, u = carve(u, s.Drugs)
		}
	}
}

// compactBefore compacts, chunk by chunk, the samples well before sample i, which a
// final-table reader is about to start: the reader's memory then stays near the compact
// size instead of growing to twice it before finish compacts. A later row of a compacted
// sample (its group's rows not adjacent in the file) still joins it: appending to a
// capped slice copies it.
func (rd *tableReader) compactBefore(i int) {
	for i > rd.compacted+compactChunk {
		compactSamples(rd.samples[rd.compacted : rd.compacted+compactChunk])
		rd.compacted += compactChunk
	}
}

// carve appends v to slab (which has room: no reallocation) and returns the copy, its
// capacity capped at its length, and the slab.
func carve[T any](slab, v []T) (out, rest []T) {
	if v == nil {
		return nil, slab
	}
	n := len(slab)
	slab = append(slab, v...)
	return slab[n:len(slab):len(slab)], slab
}
