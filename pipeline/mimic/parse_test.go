package mimic

import (
	"math"
	"strings"
	"testing"
)

func TestParseDose(t *testing.T) {
	for in, want := range map[string]float64{"20": 20, "1-2": 1.5, "0.5-1": 0.75, "1,000": 1000, "5,000-10,000": 7500, " 325-650 ": 487.5, ".5": 0.5} {
		v, _, ok := parseDose(in)
		if !ok || v != want {
			t.Errorf("parseDose(%q) = %v, %v; want %v", in, v, ok, want)
		}
	}
	for _, in := range []string{"", "see note", "1,00", "-5", "1-", "a-b"} {
		if v, _, ok := parseDose(in); ok || !math.IsNaN(v) {
			t.Errorf("parseDose(%q) = %v, %v; want missing", in, v, ok)
		}
	}
}

func TestParseTimeRoundTrip(t *testing.T) {
	for in, want := range map[string]string{
		"2180-05-07 22:00:00": "2180-05-07T22:00:00", "2101-10-20": "2101-10-20T00:00:00", "2124-02-29T23:59": "2124-02-29T23:59:00",
		"1969-12-31 23:59:59": "1969-12-31T23:59:59", "2180-05-07 22:00:00.123": "2180-05-07T22:00:00",
	} {
		v, ok := parseTime([]byte(in))
		got := ""
		if ok {
			got = formatTime(v, false)
		}
		if got != want {
			t.Errorf("parseTime(%q) -> %q; want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "2180-05-07X22", "07/05/2180", "2180-13-01", "2180-05-07 25:00:00"} {
		if _, ok := parseTime([]byte(bad)); ok {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}

func TestParseFloat(t *testing.T) {
	for in, want := range map[string]float64{"4.2": 4.2, ".207": 0.207, "-3": -3, "140": 140, "1e3": 1000, "7.40": 7.4} {
		if v, ok := parseFloat([]byte(in)); !ok || v != want {
			t.Errorf("parseFloat(%q) = %v, %v; want %v", in, v, ok, want)
		}
	}
	for _, bad := range []string{"", "-", ".", "NaN", "Inf", "<0.1", "___"} {
		if _, ok := parseFloat([]byte(bad)); ok {
			t.Errorf("parseFloat(%q) accepted", bad)
		}
	}
}

// TestCSVQuoted: quoted fields with commas, doubled quotes and line breaks are one
// field; line numbers count physical lines.
func TestCSVQuoted(t *testing.T) {
	in := "a,b,c\n1,\"x, \"\"y\"\"\nz\",3\n4,5,6\n"
	cr := newCSVReader(strings.NewReader(in), "t.csv")
	if _, err := cr.header(); err != nil {
		t.Fatal(err)
	}
	rec, err := cr.read()
	if err != nil || len(rec) != 3 || string(rec[1]) != "x, \"y\"\nz" || cr.line != 2 {
		t.Fatalf("record %q at line %d, %v", rec, cr.line, err)
	}
	rec, err = cr.read()
	if err != nil || string(rec[2]) != "6" || cr.line != 4 {
		t.Fatalf("record %q at line %d, %v", rec, cr.line, err)
	}
	cr = newCSVReader(strings.NewReader("a,b\n1,\"open\n"), "t.csv")
	cr.header()
	if _, err := cr.read(); err == nil || !strings.Contains(err.Error(), "t.csv:2:3") {
		t.Fatalf("unclosed quote: %v; want t.csv:2:3", err)
	}
}
