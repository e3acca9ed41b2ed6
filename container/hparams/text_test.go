package hparams

import (
	"strings"
	"testing"
)

// TestAnalytesSpec: the analytes hyperparameter takes presets and lists, trims, and
// refuses empty items, control characters and over-long text.
func TestAnalytesSpec(t *testing.T) {
	s, ok := Lookup("analytes")
	if !ok || s.Kind != Text || !s.Data {
		t.Fatalf("analytes spec %+v", s)
	}
	for in, want := range map[string]string{"chemistry": "chemistry", ` "blood-gas" `: "blood-gas", "50971, Sodium": "50971, Sodium"} {
		got, err := s.Check(in)
		if err != nil || got != want {
			t.Errorf("Check(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "50971,,50983", "a\x01b", strings.Repeat("x", 1001)} {
		if _, err := s.Check(bad); err == nil || !strings.Contains(err.Error(), "analytes") {
			t.Errorf("Check(%q) = %v; want an error naming analytes", bad, err)
		}
	}
}
