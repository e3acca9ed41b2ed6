package pipeline

import (
	"fmt"
	"math"
	"slices"
	"strings"
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

// unevenSubjects has 33 subjects holding 1 to 40 samples each, like the real table
// (a few subjects own most of its groups).
func unevenSubjects() []Sample {
	var out []Sample
	for s := 0; s < 33; s++ {
		n := 1 + (s*s*7+3*s)%40
		for g := 0; g < n; g++ {
			smp := groupOf(fmt.Sprintf("p%02d", s), 1, 1)
			smp.Start = fmt.Sprintf("2125-%02d-%02d", 1+g/28, 1+g%28)
			out = append(out, smp)
		}
	}
	return out
}

// TestSplitBySubjectBalancesSamples: the split's sample counts follow the fractions (not
// its subject counts), whatever the seed, and no subject is in two splits.
func TestSplitBySubjectBalancesSamples(t *testing.T) {
	samples := unevenSubjects()
	fr := [3]float64{0.7, 0.15, 0.15}
	for seed := int64(0); seed < 20; seed++ {
		tr, va, te := SplitBySubject(samples, fr, seed)
		owner := map[string]int{}
		for k, part := range [][]Sample{tr, va, te} {
			want := fr[k] * float64(len(samples))
			if d := math.Abs(float64(len(part)) - want); d > 2 {
				t.Errorf("seed %d: split %d has %d samples, want %.1f +- 2", seed, k, len(part), want)
			}
			for _, s := range part {
				if o, ok := owner[s.Subject]; ok && o != k {
					t.Fatalf("seed %d: subject %s in splits %d and %d", seed, s.Subject, o, k)
				}
				owner[s.Subject] = k
			}
		}
	}
}

// TestSubjectFolds: k folds with balanced sample counts, each subject in one fold,
// deterministic from the seed and independent of row order.
func TestSubjectFolds(t *testing.T) {
	samples := unevenSubjects()
	for seed := int64(0); seed < 10; seed++ {
		folds, err := foldsBySubject(samples, 5, seed)
		if err != nil {
			t.Fatal(err)
		}
		owner := map[string]int{}
		total := 0
		for f, part := range folds {
			total += len(part)
			want := float64(len(samples)) / 5
			if d := math.Abs(float64(len(part)) - want); d > 2 {
				t.Errorf("seed %d: fold %d has %d samples, want %.1f +- 2", seed, f, len(part), want)
			}
			for _, s := range part {
				if o, ok := owner[s.Subject]; ok && o != f {
					t.Fatalf("seed %d: subject %s in folds %d and %d", seed, s.Subject, o, f)
				}
				owner[s.Subject] = f
			}
		}
		if total != len(samples) {
			t.Fatalf("folds hold %d samples, want %d", total, len(samples))
		}
	}
	a, _ := foldsBySubject(samples, 5, 3)
	rev := slices.Clone(samples)
	slices.Reverse(rev)
	b, _ := foldsBySubject(rev, 5, 3)
	for f := range a {
		if subjectSet(a[f]) != subjectSet(b[f]) {
			t.Fatalf("fold %d: row order changed the folds: %s vs %s", f, subjectSet(a[f]), subjectSet(b[f]))
		}
	}
	if _, err := foldsBySubject(manySubjects(3, 2), 5, 1); err == nil || !strings.Contains(err.Error(), "3 subjects") {
		t.Fatalf("5 folds of 3 subjects: err %v, want one naming the 3 subjects", err)
	}
}

func subjectSet(ss []Sample) string {
	m := map[string]bool{}
	for _, s := range ss {
		m[s.Subject] = true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// foldsBySubject groups samples by their SubjectFolds fold, in input order.
func foldsBySubject(samples []Sample, k int, seed int64) ([][]Sample, error) {
	which, err := SubjectFolds(samples, k, seed)
	if err != nil {
		return nil, err
	}
	folds := make([][]Sample, k)
	for _, s := range samples {
		folds[which[s.Subject]] = append(folds[which[s.Subject]], s)
	}
	return folds, nil
}

// One rule for the shares of subjects: Prepare's fractions, launcher prepare's
// --fractions and the trainer's held-out validation and test shares.
func TestFractionsRule(t *testing.T) {
	for _, tt := range []struct {
		in, err string
		want    [3]float64
	}{
		{"0.7,0.15,0.15", "", [3]float64{0.7, 0.15, 0.15}},
		{"1, 0, 0", "", [3]float64{1, 0, 0}},
		{"0.5,0.5", `"0.5,0.5": expected three shares like 0.7,0.15,0.15`, [3]float64{}},
		{"a,0,1", `"a,0,1": share "a" is not a number in [0, 1]`, [3]float64{}},
		{"NaN,0.5,0.5", `"NaN,0.5,0.5": fraction train NaN: expected a number in [0, 1]`, [3]float64{}},
		{"0.5,0.3,0.3", `"0.5,0.3,0.3": fractions 0.5,0.3,0.3 sum to 1.1: expected 1`, [3]float64{}},
		{"0,0.5,0.5", `"0,0.5,0.5": train fraction is 0: expected a positive train fraction`, [3]float64{}},
	} {
		got, err := ParseFractions(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseFractions(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFractions(%q) = %v, %v", tt.in, got, err)
		}
	}
	if fr, err := HoldOutFractions(0.15, 0); err != nil || fr != [3]float64{0.85, 0.15, 0} {
		t.Errorf("HoldOutFractions(0.15, 0) = %v, %v", fr, err)
	}
	for _, bad := range [][2]float64{{0.5, 0.5}, {0.9, 0.9}, {math.NaN(), 0}, {0.2, -0.1}} {
		if fr, err := HoldOutFractions(bad[0], bad[1]); err == nil {
			t.Errorf("HoldOutFractions(%v, %v) = %v, want an error", bad[0], bad[1], fr)
		}
	}
}
