package pipeline

import (
	"fmt"
	"slices"
	"strconv"
)

// Overflow policies for groups with more prescription rows than a block holds.
const (
	PolicyTruncate = "truncate" // keep the first max rows, in file order
	PolicySplit    = "split"    // cut into balanced parts of at most max rows, sharing pre/post
)

// LimitRows applies the overflow policy to groups with more than max prescription rows
// (max 0 = unlimited; policy "" = truncate). affected is the number of groups changed.
// Split parts keep the subject and get the start "<start>#<k>" (k from 1), so they stay
// in the same split and remain distinguishable. Input samples are not modified; when no
// group is over max, out is samples itself (no copy of a million samples).
func LimitRows(samples []Sample, max int, policy string) (out []Sample, affected int, err error) {
	if policy == "" {
		policy = PolicyTruncate
	}
	if policy != PolicyTruncate && policy != PolicySplit {
		return nil, 0, fmt.Errorf("overflow policy %q: expected %q or %q", policy, PolicyTruncate, PolicySplit)
	}
	if max < 0 {
		return nil, 0, fmt.Errorf("max prescriptions %d: expected 0 (unlimited) or more", max)
	}
	if !slices.ContainsFunc(samples, func(s Sample) bool { return max > 0 && s.NumRx() > max }) {
		return samples, 0, nil
	}
	out = make([]Sample, 0, len(samples))
	for _, s := range samples {
		n := s.NumRx()
		if max == 0 || n <= max {
			out = append(out, s)
			continue
		}
		affected++
		if policy == PolicyTruncate {
			out = append(out, s.rxRange(0, max, s.Start))
			continue
		}
		parts := (n + max - 1) / max
		lo := 0
		for k := 0; k < parts; k++ {
			// balanced: the first n%parts parts get one extra row
			size := n / parts
			if k < n%parts {
				size++
			}
			out = append(out, s.rxRange(lo, lo+size, s.Start+"#"+strconv.Itoa(k+1)))
			lo += size
		}
	}
	return out, affected, nil
}

// rxRange copies the sample with only prescription rows [lo, hi).
func (s Sample) rxRange(lo, hi int, start string) Sample {
	c := s
	c.Start = start
	c.Embeddings = append([][]float32(nil), s.Embeddings[lo:hi]...) // the rows stay shared
	c.Doses = append([]float32(nil), s.Doses[lo:hi]...)
	c.Units = append([]string(nil), s.Units[lo:hi]...)
	if len(s.Drugs) == s.NumRx() {
		c.Drugs = append([]string(nil), s.Drugs[lo:hi]...)
	}
	return c
}
