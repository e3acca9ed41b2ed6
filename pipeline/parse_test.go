package pipeline

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseEmbedding(t *testing.T) {
	tests := []struct {
		in      string
		want    []float32
		wantErr string
	}{
		{"[ 0.35 -0.12 1e-3 4 ]", []float32{0.35, -0.12, 0.001, 4}, ""},
		{"[0.1, 0.2,0.3 ,\t0.4]", []float32{0.1, 0.2, 0.3, 0.4}, ""},
		{"[ 1.5E+02\n  -2.5e-01\r\n 3 ]", []float32{150, -0.25, 3}, ""},
		{"  7 8 9  ", []float32{7, 8, 9}, ""},
		{"[5]", []float32{5}, ""},
		{"[]", nil, "got no values"},
		{"", nil, "got no values"},
		{"[1 2", nil, "missing closing bracket"},
		{"1 2]", nil, "missing opening bracket"},
		{"[1 two 3]", nil, "embedding value 1: expected a number, got \"two\""},
		{"[1 nan 3]", nil, "embedding value 1: expected a finite number"},
		{"[1 inf]", nil, "expected a finite number"},
		{"[1 1e39]", nil, "magnitude at most 1e9"},
	}
	for _, tc := range tests {
		got, err := ParseEmbedding(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseEmbedding(%q) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !equalF32(got, tc.want, nil) {
			t.Errorf("ParseEmbedding(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseDose(t *testing.T) {
	tests := []struct {
		in     string
		want   float64
		ranged bool
		bad    bool
	}{
		{"60", 60, false, false},
		{" 0.5 ", 0.5, false, false},
		{"-2.4e-06", -2.4e-06, false, false},
		{"325-650", 487.5, true, false},
		{"0.5-1", 0.75, true, false},
		{"1e-3-2e-3", 0.0015, true, false},
		{"", math.NaN(), false, false},
		{"two", 0, false, true},
		{"1-x", 0, false, true},
		{"NaN", 0, false, true},
	}
	for _, tc := range tests {
		got, ranged, err := parseDose(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseDose(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || ranged != tc.ranged || !(got == tc.want || math.Abs(got-tc.want) < 1e-12 || (math.IsNaN(got) && math.IsNaN(tc.want))) {
			t.Errorf("parseDose(%q) = %v, %v, %v; want %v, %v", tc.in, got, ranged, err, tc.want, tc.ranged)
		}
	}
}

func TestNormalizeUnit(t *testing.T) {
	tests := map[string]string{"7": "7", "7.0": "7", " 7 ": "7", "07": "7", "mg": "mg", " UNIT ": "UNIT", "": "", "0.5": "0.5"}
	for in, want := range tests {
		if got := NormalizeUnit(in); got != want {
			t.Errorf("NormalizeUnit(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, in := range []string{"2125-10-05T00:00:00", "2125-10-05 00:00:00", "2125-10-05", "2125-10-05T00:00", "2125-10-05T00:00:00.5"} {
		tm, err := parseTime(in)
		if err != nil || tm.Format("2006-01-02") != "2125-10-05" {
			t.Errorf("parseTime(%q) = %v, %v", in, tm, err)
		}
	}
	for _, in := range []string{"", "10/05/2125", "2125-13-01"} {
		if _, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) succeeded", in)
		}
	}
}

func TestEmbedText(t *testing.T) {
	a := EmbedText("Acetaminophen", 128)
	if len(a) != 128 {
		t.Fatalf("len %d", len(a))
	}
	var ss float64
	for _, v := range a {
		ss += float64(v) * float64(v)
	}
	if math.Abs(math.Sqrt(ss/128)-1) > 1e-5 {
		t.Fatalf("rms %v, want 1", math.Sqrt(ss/128))
	}
	if !equalF32(a, EmbedText("  ACETAMINOPHEN ", 128), nil) {
		t.Fatal("case and surrounding spaces change the embedding")
	}
	if !equalF32(EmbedText("", 8), make([]float32, 8), nil) || !equalF32(EmbedText("--", 8), make([]float32, 8), nil) {
		t.Fatal("empty name must give the zero vector")
	}
	if len(EmbedText("x", 0)) != DefaultEmbeddingDim {
		t.Fatal("dim 0 must mean the default")
	}
	cos := func(x, y []float32) float64 {
		var d, nx, ny float64
		for i := range x {
			d += float64(x[i]) * float64(y[i])
			nx += float64(x[i]) * float64(x[i])
			ny += float64(y[i]) * float64(y[i])
		}
		return d / math.Sqrt(nx*ny)
	}
	near := cos(EmbedText("Insulin Regular", 128), EmbedText("Insulin Glargine", 128))
	far := cos(EmbedText("Insulin Regular", 128), EmbedText("Vancomycin", 128))
	if near <= far+0.2 {
		t.Fatalf("similar names cos %.3f not clearly above unrelated %.3f", near, far)
	}
}

func TestFastFloatMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "1", "-1.0", "7.38", "0.1", "0.30000000000000004", "123456789012345", "1234567890123456",
		"360.34999999999997", "85.714285714285708", "0.000001", "+5.5", ".5", "5.", "-.25", "00012.5000", "1e5", "", ".", "-", "1.2.3", " 1", "0x10"}
	for _, c := range cases {
		want, werr := strconv.ParseFloat(c, 64)
		got, ok := fastFloat(c)
		if ok && (werr != nil || got != want || math.Signbit(got) != math.Signbit(want)) {
			t.Errorf("fastFloat(%q) = %v, strconv %v (%v)", c, got, want, werr)
		}
	}
}
