package model

import (
	"math"
	"testing"
)

// TestPreAdjusted: the drug coefficient of an exact linear change is recovered, folds
// merged give the fit of all groups, and a drug in every group (or none) has no answer.
func TestPreAdjusted(t *testing.T) {
	var a, b, all preAdjusted
	for i := 0; i < 40; i++ {
		pre := 3 + 0.05*float64(i)
		drug := i%3 == 0
		change := 1 - 0.5*pre
		if drug {
			change += 0.3
		}
		all.add(pre, drug, change)
		if i < 20 {
			a.add(pre, drug, change)
		} else {
			b.add(pre, drug, change)
		}
	}
	a.merge(&b)
	if got := a.drugCoefficient(); math.Abs(got-0.3) > 1e-9 || a.xx[0] != 40 {
		t.Fatalf("merged folds: drug coefficient %v (want 0.3), %v groups (want 40)", got, a.xx[0])
	}
	for i := range a.xx {
		if math.Abs(a.xx[i]-all.xx[i]) > 1e-9*math.Abs(all.xx[i]) {
			t.Fatalf("merged sums %v, all groups %v", a.xx, all.xx)
		}
	}
	var every preAdjusted
	for i := 0; i < 10; i++ {
		every.add(float64(i), true, 1)
	}
	if got := every.drugCoefficient(); !math.IsNaN(got) {
		t.Fatalf("a drug in every group: coefficient %v, want NaN", got)
	}
}
