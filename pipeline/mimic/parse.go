package mimic

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// atoi parses a non-negative decimal id; ok is false for anything else (empty included).
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	return num(b)
}

// parseFloat parses a lab value: plain decimals ("4.2", ".207", "-3") fast, anything
// else through strconv; ok is false for text and non-finite values.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, frac := 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits < 18 {
				mant = mant*10 + uint64(c-'0')
				digits++
				if frac >= 0 {
					frac++
				}
			} else {
				return slowFloat(b)
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return slowFloat(b)
		}
	}
	if digits == 0 {
		return 0, false
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func slowFloat(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// parseTime parses "YYYY-MM-DD[ T]HH:MM[:SS]" or "YYYY-MM-DD" (fractional seconds
// ignored) to seconds since 1970, treated as UTC, without allocating.
func parseTime(b []byte) (int64, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return 0, false
	}
	var h, mi, s int64
	if len(b) > 10 {
		if len(b) < 16 || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' {
			return 0, false
		}
		var okh, okm bool
		h, okh = num(b[11:13])
		mi, okm = num(b[14:16])
		if !okh || !okm || h > 23 || mi > 59 {
			return 0, false
		}
		if len(b) > 16 {
			if len(b) < 19 || b[16] != ':' {
				return 0, false
			}
			var oks bool
			if s, oks = num(b[17:19]); !oks || s > 60 {
				return 0, false
			}
			if len(b) > 19 && b[19] != '.' {
				return 0, false
			}
		}
	}
	return daysFromCivil(y, mo, d)*86400 + h*3600 + mi*60 + s, true
}

// num parses decimal digits (none is 0).
func num(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic Gregorian).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// formatTime writes seconds since 1970 as "YYYY-MM-DDTHH:MM:SS", or "YYYY-MM-DD" when
// dateOnly.
func formatTime(t int64, dateOnly bool) string { return string(appendTime(nil, t, dateOnly, 'T')) }

// appendTime appends t as "YYYY-MM-DD<sep>HH:MM:SS" (or the date alone) without
// allocating beyond b.
func appendTime(b []byte, t int64, dateOnly bool, sep byte) []byte {
	days := t / 86400
	secs := t % 86400
	if secs < 0 {
		secs += 86400
		days--
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	two := func(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = two(b, y/100)
	b = two(b, y%100)
	b = append(b, '-')
	b = two(b, m)
	b = append(b, '-')
	b = two(b, d)
	if dateOnly {
		return b
	}
	b = append(b, sep)
	b = two(b, secs/3600)
	b = append(b, ':')
	b = two(b, secs/60%60)
	b = append(b, ':')
	return two(b, secs%60)
}

// parseDose reads dose_val_rx text: "20", "1,000" (a thousands separator), "1-2" or
// "0.5-1" (a range: its midpoint). ok is false for empty or unparseable text, which the
// caller keeps as a missing dose and counts.
func parseDose(s string) (v float64, ranged, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN(), false, false
	}
	if strings.Contains(s, ",") && thousands(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	if v, ok := slowFloat([]byte(s)); ok && v >= 0 {
		return v, false, true
	}
	if a, b, found := strings.Cut(s, "-"); found {
		x, okA := slowFloat([]byte(strings.TrimSpace(a)))
		y, okB := slowFloat([]byte(strings.TrimSpace(b)))
		if okA && okB && x >= 0 && y >= 0 {
			return (x + y) / 2, true, true
		}
	}
	return math.NaN(), false, false
}

// thousands reports whether every comma in s separates groups of three digits.
func thousands(s string) bool {
	for _, part := range strings.Split(s, "-") {
		groups := strings.Split(strings.TrimSpace(part), ",")
		for k, g := range groups {
			if k > 0 {
				digits, _, _ := strings.Cut(g, ".")
				if k < len(groups)-1 {
					digits = g
				}
				if len(digits) != 3 {
					return false
				}
			}
		}
	}
	return true
}
