package cli

import (
	"strings"
	"testing"
	"time"
)

func TestComposeName(t *testing.T) {
	stamp := jobStamp(time.Date(2025, 11, 25, 18, 30, 0, 0, time.UTC))
	tests := []struct {
		base, suffix string
		limit        int
		want         string
	}{
		{"blueblood-e20", stamp, 63, "blueblood-e20-20251125183000"},
		{"my_model.v2", stamp, 63, "my-model-v2-20251125183000"},
		{"__--..", stamp, 63, stamp},
		{"", stamp, 63, stamp},
		{"ünïcode base", stamp, 63, "n-code-base-20251125183000"},
		// The base is trimmed, never the suffix; a hyphen left at the cut is dropped.
		{strings.Repeat("a", 47) + "-bbbbbbbb", stamp + "-001", 63, strings.Repeat("a", 44) + "-" + stamp + "-001"},
		{strings.Repeat("x", 100), stamp + "-081", 63, strings.Repeat("x", 44) + "-" + stamp + "-081"},
		{strings.Repeat("y", 100), tuningStamp(time.Date(2025, 11, 25, 18, 30, 0, 0, time.UTC)), 32, strings.Repeat("y", 18) + "-251125-183000"},
		{"base", strings.Repeat("s", 63), 63, strings.Repeat("s", 63)},
	}
	for _, tt := range tests {
		got := composeName(tt.base, tt.suffix, tt.limit)
		if got != tt.want {
			t.Errorf("composeName(%q, %q, %d) = %q, want %q", tt.base, tt.suffix, tt.limit, got, tt.want)
		}
		if len(got) > tt.limit || !reJobName.MatchString(got) {
			t.Errorf("%q is not a valid name of at most %d", got, tt.limit)
		}
		if !strings.HasSuffix(got, tt.suffix) {
			t.Errorf("%q lost its suffix %q", got, tt.suffix)
		}
	}
}

func TestHPTagAndTrialSuffix(t *testing.T) {
	hp := map[string]string{"epochs": "10", "learning_rate": "1e-05", "lstm_units": "32", "dropout_rate": "0.2",
		"architecture": "pooled-residual", "clip_norm": "1.5"}
	got := hpTag(hp, []string{"dropout_rate", "learning_rate", "epochs", "lstm_units", "architecture", "clip_norm"})
	if got != "e10-lr1em05-u32-d0p2-apooled-residual-cn1p5" {
		t.Errorf("hpTag = %q", got)
	}
	if !reJobName.MatchString(got) {
		t.Errorf("%q has invalid characters", got)
	}
	for _, tt := range []struct {
		i, total int
		want     string
	}{{1, 81, "S-001"}, {81, 81, "S-081"}, {7, 1000, "S-0007"}, {12345, 20000, "S-12345"}} {
		if got := trialSuffix("S", tt.i, tt.total); got != tt.want {
			t.Errorf("trialSuffix(%d, %d) = %q, want %q", tt.i, tt.total, got, tt.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "A1", "a--b", strings.Repeat("z", 63)} {
		if err := checkName("--name", ok, false); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "a_b", "a.b", "a b", strings.Repeat("z", 64)} {
		if err := checkName("--name", bad, false); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := checkName("--name", strings.Repeat("t", 33), true); err == nil {
		t.Error("33-character tuning name accepted")
	}
}
