package cli

import (
	"bytes"
	"strings"
	"testing"
)

// Metrics arrive as float32; the CSV shows the value the service reported, not
// its float64 widening (0.7056249976158142 for 0.705625).
func TestLeaderboardCSVShortestFloat32(t *testing.T) {
	v := float64(float32(0.705625))
	rs := []trialResult{{name: "j-1", hp: map[string]string{}, status: "Completed", metrics: map[string]float64{"validation:rmse": v}}}
	var b bytes.Buffer
	if err := writeLeaderboardCSV(&b, "validation:rmse", nil, rs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ",0.705625,") {
		t.Errorf("csv:\n%s", b.String())
	}
}
