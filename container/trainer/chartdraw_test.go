package trainer

import (
	"slices"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		whole  bool
		want   []string
	}{
		{0, 1, false, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{0.1, 1.35, false, []string{"0.25", "0.50", "0.75", "1.00", "1.25"}},
		{-2.6, 2.6, false, []string{"-2", "-1", "0", "1", "2"}},
		{0.97, 2.03, true, []string{"1", "2"}},
		{0, 2.06, true, []string{"0", "1", "2"}},
		{0, 1030, true, []string{"0", "200", "400", "600", "800", "1000"}},
	}
	for _, tc := range tests {
		ticks, prec := niceTicks(tc.lo, tc.hi, 6, tc.whole)
		var got []string
		for _, v := range ticks {
			got = append(got, tickLabel(v, prec))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("niceTicks(%g, %g, whole=%v) = %q, want %q", tc.lo, tc.hi, tc.whole, got, tc.want)
		}
	}
}
