package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sort"
)

// SplitBySubject splits samples into train, validation and test so that no subject is
// in two splits. Each subject's place is decided by a hash of (seed, subject), so the
// result depends only on the seed and the set of subjects, not on row order. The number
// of subjects per split follows the fractions (largest remainder), and every split with a
// positive fraction gets at least one subject when there are enough subjects. Samples
// keep their input order within each split.
func SplitBySubject(samples []Sample, fractions [3]float64, seed int64) (train, validation, test []Sample) {
	seen := map[string]bool{}
	var subjects []string
	for i := range samples {
		if !seen[samples[i].Subject] {
			seen[samples[i].Subject] = true
			subjects = append(subjects, samples[i].Subject)
		}
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
	counts := splitCounts(len(subjects), fractions)
	which := make(map[string]int, len(subjects))
	for i, s := range subjects {
		switch {
		case i < counts[0]:
			which[s] = 0
		case i < counts[0]+counts[1]:
			which[s] = 1
		default:
			which[s] = 2
		}
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

func subjectKey(seed int64, subject string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(subject))
	return binary.LittleEndian.Uint64(h.Sum(nil)[:8])
}

// splitCounts apportions n subjects by fractions with the largest-remainder method.
func splitCounts(n int, f [3]float64) [3]int {
	var sum float64
	for _, v := range f {
		if v > 0 {
			sum += v
		}
	}
	var c [3]int
	if sum == 0 || n == 0 {
		c[0] = n
		return c
	}
	type rem struct {
		i int
		r float64
	}
	var rems []rem
	total := 0
	for i, v := range f {
		if v < 0 {
			v = 0
		}
		exact := float64(n) * v / sum
		c[i] = int(math.Floor(exact))
		total += c[i]
		rems = append(rems, rem{i, exact - float64(c[i])})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; total < n; k++ {
		c[rems[k%3].i]++
		total++
	}
	// a split asked for must not end up empty while another has subjects to spare
	for i, v := range f {
		if v <= 0 || c[i] > 0 {
			continue
		}
		big := 0
		for j := range c {
			if c[j] > c[big] {
				big = j
			}
		}
		if c[big] > 1 {
			c[big]--
			c[i]++
		}
	}
	return c
}
