package pipeline

import (
	"fmt"
	"testing"
)

func manySubjects(n, groups int) []Sample {
	var out []Sample
	for s := 0; s < n; s++ {
		for g := 0; g < groups; g++ {
			smp := groupOf(fmt.Sprintf("s%03d", s), 1, 1)
			smp.Start = fmt.Sprintf("2125-01-%02d", g+1)
			out = append(out, smp)
		}
	}
	return out
}

func TestSplitBySubject(t *testing.T) {
	samples := manySubjects(100, 3)
	tests := []struct {
		fr   [3]float64
		want [3]int // subjects
	}{
		{[3]float64{0.7, 0.15, 0.15}, [3]int{70, 15, 15}},
		{[3]float64{0.8, 0.2, 0}, [3]int{80, 20, 0}},
		{[3]float64{1, 0, 0}, [3]int{100, 0, 0}},
		{[3]float64{0.333, 0.333, 0.334}, [3]int{33, 33, 34}},
	}
	for _, tc := range tests {
		tr, va, te := SplitBySubject(samples, tc.fr, 7)
		owner := map[string]int{}
		for k, part := range [][]Sample{tr, va, te} {
			subjects := map[string]bool{}
			for _, s := range part {
				if o, ok := owner[s.Subject]; ok && o != k {
					t.Fatalf("%v: subject %s in splits %d and %d", tc.fr, s.Subject, o, k)
				}
				owner[s.Subject] = k
				subjects[s.Subject] = true
			}
			if len(subjects) != tc.want[k] || len(part) != 3*tc.want[k] {
				t.Errorf("%v: split %d has %d subjects and %d samples, want %d subjects", tc.fr, k, len(subjects), len(part), tc.want[k])
			}
		}
	}
	// deterministic from the seed, independent of input order, different across seeds
	a, _, _ := SplitBySubject(samples, [3]float64{0.7, 0.15, 0.15}, 1)
	rev := append([]Sample(nil), samples...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b, _, _ := SplitBySubject(rev, [3]float64{0.7, 0.15, 0.15}, 1)
	c, _, _ := SplitBySubject(samples, [3]float64{0.7, 0.15, 0.15}, 2)
	set := func(ss []Sample) map[string]bool {
		m := map[string]bool{}
		for _, s := range ss {
			m[s.Subject] = true
		}
		return m
	}
	sa, sb, sc := set(a), set(b), set(c)
	if len(sa) != len(sb) {
		t.Fatal("order changed the split")
	}
	for s := range sa {
		if !sb[s] {
			t.Fatalf("order changed the split: %s", s)
		}
	}
	same := 0
	for s := range sa {
		if sc[s] {
			same++
		}
	}
	if same == len(sa) {
		t.Fatal("seeds 1 and 2 gave the same split")
	}
	// few subjects: every split asked for still gets one
	tr, va, te := SplitBySubject(manySubjects(3, 1), [3]float64{0.8, 0.1, 0.1}, 1)
	if len(tr) != 1 || len(va) != 1 || len(te) != 1 {
		t.Fatalf("3 subjects split %d/%d/%d, want 1/1/1", len(tr), len(va), len(te))
	}
}
