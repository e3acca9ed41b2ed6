package pipeline

import (
	"strings"
	"testing"
)

// Each built-in table format detects its own headers, and only those, so the order of
// tableFormats does not matter.
func TestTableFormatDetect(t *testing.T) {
	tests := []struct {
		header string
		want   tableFormat
	}{
		{"subject_id,prescription_start,prescription_dose_val_rx,pre_ph,post_ph,P0,P1", finalTable{}},
		{"prescription_dose_val_rx,pre_ph,post_ph,drug_embedding", finalTable{}},
		{"subject_id,prescription_start,prescription_dose_val_rx,prescription_drug,pre_ph,post_ph", finalTable{raw: true}},
		{"subject_id,prescription_start,prescription_dose_val_rx,prescription_drug", rxTable{}},
		{"subject_id,charttime,ph,hadm_id", bloodTable{}},
	}
	for _, tt := range tests {
		s, err := parseHeader("t.csv", strings.Split(tt.header, ","), &ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tt.header, err)
		}
		if s.format != tt.want {
			t.Errorf("%s: format %#v, want %#v", tt.header, s.format, tt.want)
		}
		for _, f := range tableFormats {
			if got := f.detect(s, &ReadOptions{}); got != (f == tt.want) {
				t.Errorf("%s: %#v.detect = %v", tt.header, f, got)
			}
		}
	}
	if s, err := parseHeader("t.csv", strings.Split("subject_id,charttime", ","), &ReadOptions{}); err == nil {
		t.Errorf("blood table without analytes read as %#v", s.format)
	}
	if _, err := parseHeader("t.csv", strings.Split("a,b", ","), &ReadOptions{}); err == nil || err.Error() != "t.csv:1:1: unrecognised table: expected pre_*/post_* columns, a prescriptions table (subject_id, prescription_start, drug or embedding, dose) or a blood-test table (subject_id, charttime, analytes)" {
		t.Errorf("unknown header: %v", err)
	}
}
