package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// CheckFractions is the one rule for train, validation and test shares of the subjects
// (Prepare, launcher prepare's --fractions and the trainer's held-out shares): each a
// number in [0, 1], summing to 1, with a positive train share.
func CheckFractions(f [3]float64) error {
	var s float64
	for i, v := range f {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("fraction %s %v: expected a number in [0, 1]", Channels[i], v)
		}
		s += v
	}
	if math.Abs(s-1) > 1e-6 {
		return fmt.Errorf("fractions %g,%g,%g sum to %.6g: expected 1", f[0], f[1], f[2], s)
	}
	if f[0] == 0 {
		return errors.New("train fraction is 0: expected a positive train fraction")
	}
	return nil
}

// ParseFractions reads shares written "0.7,0.15,0.15" and checks them (CheckFractions);
// its errors quote s.
func ParseFractions(s string) ([3]float64, error) {
	var fr [3]float64
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fr, fmt.Errorf("%q: expected three shares like 0.7,0.15,0.15", s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return fr, fmt.Errorf("%q: share %q is not a number in [0, 1]", s, p)
		}
		fr[i] = f
	}
	if err := CheckFractions(fr); err != nil {
		return fr, fmt.Errorf("%q: %w", s, err)
	}
	return fr, nil
}

// HoldOutFractions are the shares that hold validation and test shares of the subjects
// out of the training data, train keeping the rest (a share of 0 holds nothing out).
func HoldOutFractions(validation, test float64) ([3]float64, error) {
	fr := [3]float64{1 - validation - test, validation, test}
	if fr[0] <= 0 {
		return fr, fmt.Errorf("validation share %g and test share %g leave no subjects for training; expected a sum below 1", validation, test)
	}
	if err := CheckFractions(fr); err != nil {
		return fr, fmt.Errorf("validation share %g and test share %g: %w", validation, test, err)
	}
	return fr, nil
}

// SplitBySubject splits samples into train, validation and test so that no subject is
// in two splits and the splits' sample counts follow the fractions as closely as whole
// subjects allow (a subject-share split of 33 uneven subjects gave 139/13/129 samples for
// 0.7/0.15/0.15). Subjects are visited in the order of a hash of (seed, subject), so the
// result depends only on the seed and the samples, not on row order. Every split with a
// positive fraction gets at least one subject when there are enough subjects. Samples
// keep their input order within each split.
func SplitBySubject(samples []Sample, fractions [3]float64, seed int64) (train, validation, test []Sample) {
	subjects, sizes := subjectsInKeyOrder(samples, seed)
	var sum float64
	for _, f := range fractions {
		sum += max(f, 0)
	}
	targets := make([]float64, 3)
	required := make([]bool, 3)
	for k, f := range fractions {
		if sum > 0 && f > 0 {
			targets[k] = float64(len(samples)) * f / sum
			required[k] = true
		}
	}
	if sum == 0 {
		targets[0], required[0] = float64(len(samples)), true
	}
	part := balanceParts(sizes, targets, required)
	which := make(map[string]int, len(subjects))
	for i, s := range subjects {
		which[s] = part[i]
	}
	// sized exactly first: grown by append, a million samples' parts would each be
	// copied several times over
	var n [3]int
	for i := range samples {
		n[min(which[samples[i].Subject], 2)]++
	}
	if n[0] > 0 {
		train = make([]Sample, 0, n[0])
	}
	if n[1] > 0 {
		validation = make([]Sample, 0, n[1])
	}
	if n[2] > 0 {
		test = make([]Sample, 0, n[2])
	}
	for _, smp := range samples {
		switch which[smp.Subject] {
		case 0:
			train = append(train, smp)
		case 1:
			validation = append(validation, smp)
		default:
			test = append(test, smp)
		}
	}
	return train, validation, test
}

// SubjectFolds cuts samples into k folds for cross-validation and returns each subject's
// fold, 0..k-1: no subject in two folds, sample counts as equal as whole subjects allow,
// subjects visited in the order of a hash of (seed, subject).
func SubjectFolds(samples []Sample, k int, seed int64) (map[string]int, error) {
	subjects, sizes := subjectsInKeyOrder(samples, seed)
	if k < 2 {
		return nil, fmt.Errorf("folds=%d: expected 2 or more", k)
	}
	if len(subjects) < k {
		return nil, fmt.Errorf("%d folds of %d subjects: expected at least one subject per fold", k, len(subjects))
	}
	targets := make([]float64, k)
	required := make([]bool, k)
	for f := range targets {
		targets[f], required[f] = float64(len(samples))/float64(k), true
	}
	part := balanceParts(sizes, targets, required)
	which := make(map[string]int, len(subjects))
	for i, s := range subjects {
		which[s] = part[i]
	}
	return which, nil
}

// HoldOutFold splits samples into fold f of the assignment which (from SubjectFolds)
// and the rest, each in input order.
func HoldOutFold(samples []Sample, which map[string]int, f int) (rest, fold []Sample) {
	for i := range samples {
		if which[samples[i].Subject] == f {
			fold = append(fold, samples[i])
		} else {
			rest = append(rest, samples[i])
		}
	}
	return rest, fold
}

// subjectsInKeyOrder lists the distinct subjects, ordered by their (seed, subject) hash,
// with their sample counts.
func subjectsInKeyOrder(samples []Sample, seed int64) ([]string, []int) {
	count := map[string]int{}
	var subjects []string
	for i := range samples {
		if count[samples[i].Subject] == 0 {
			subjects = append(subjects, samples[i].Subject)
		}
		count[samples[i].Subject]++
	}
	keys := make(map[string]uint64, len(subjects))
	for _, s := range subjects {
		keys[s] = subjectKey(seed, s)
	}
	sort.Slice(subjects, func(i, j int) bool {
		ki, kj := keys[subjects[i]], keys[subjects[j]]
		if ki != kj {
			return ki < kj
		}
		return subjects[i] < subjects[j]
	})
	sizes := make([]int, len(subjects))
	for i, s := range subjects {
		sizes[i] = count[s]
	}
	return subjects, sizes
}

func subjectKey(seed int64, subject string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(subject))
	return binary.LittleEndian.Uint64(h.Sum(nil)[:8])
}

// balanceParts assigns items (subjects, in their hash order) of the given sizes to parts
// so that each part's total approaches its target: greedily to the part furthest below
// its target, then by single moves and pairwise swaps while they lower the sum of squared
// misses. A required part is never left empty while another part has an item to spare.
// The search looks at distinct sizes, not items, so it stays cheap for many subjects.
func balanceParts(sizes []int, targets []float64, required []bool) []int {
	k := len(targets)
	part := make([]int, len(sizes))
	load := make([]float64, k)
	members := make([]int, k)
	for i, n := range sizes {
		best := 0
		for p := 1; p < k; p++ {
			if targets[p]-load[p] > targets[best]-load[best] {
				best = p
			}
		}
		part[i] = best
		load[best] += float64(n)
		members[best]++
	}
	move := func(i, to int) {
		from := part[i]
		load[from] -= float64(sizes[i])
		members[from]--
		part[i] = to
		load[to] += float64(sizes[i])
		members[to]++
	}
	// a required part left empty takes the smallest item of the fullest part that can spare one
	for p := range targets {
		if !required[p] || members[p] > 0 {
			continue
		}
		donor := -1
		for q := range targets {
			if members[q] > 1 && (donor < 0 || members[q] > members[donor]) {
				donor = q
			}
		}
		if donor < 0 {
			continue
		}
		pick := -1
		for i := range sizes {
			if part[i] == donor && (pick < 0 || sizes[i] < sizes[pick]) {
				pick = i
			}
		}
		move(pick, p)
	}
	miss := func(p int, l float64) float64 { return (l - targets[p]) * (l - targets[p]) }
	// the first item of each distinct size in each part, sizes ascending: the search
	// looks at these only, in a fixed order, so equal gains resolve the same way every run
	type cand struct{ size, item int }
	firstOf := func() [][]cand {
		out := make([][]cand, k)
		seen := make([]map[int]bool, k)
		for p := range seen {
			seen[p] = map[int]bool{}
		}
		for i, n := range sizes {
			if p := part[i]; !seen[p][n] {
				seen[p][n] = true
				out[p] = append(out[p], cand{n, i})
			}
		}
		for p := range out {
			sort.Slice(out[p], func(x, y int) bool { return out[p][x].size < out[p][y].size })
		}
		return out
	}
	for round := 0; round < 4*len(sizes)+10; round++ {
		first := firstOf()
		bestGain, bi, bj, bp := 1e-9, -1, -1, -1
		for a := 0; a < k; a++ {
			for b := 0; b < k; b++ {
				if a == b {
					continue
				}
				before := miss(a, load[a]) + miss(b, load[b])
				for _, ca := range first[a] {
					na := float64(ca.size)
					// move the item from a to b
					if !(required[a] && members[a] == 1) {
						if g := before - miss(a, load[a]-na) - miss(b, load[b]+na); g > bestGain {
							bestGain, bi, bj, bp = g, ca.item, -1, b
						}
					}
					if a > b { // swaps: each pair of parts once
						continue
					}
					for _, cb := range first[b] {
						d := na - float64(cb.size)
						if d == 0 {
							continue
						}
						if g := before - miss(a, load[a]-d) - miss(b, load[b]+d); g > bestGain {
							bestGain, bi, bj, bp = g, ca.item, cb.item, b
						}
					}
				}
			}
		}
		if bi < 0 {
			break
		}
		if bj >= 0 {
			a := part[bi]
			move(bi, bp)
			move(bj, a)
		} else {
			move(bi, bp)
		}
	}
	return part
}
