package pipeline

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxMagnitude bounds a plausible cell: the original tables' largest value is a dose of
// 25,000, embeddings and scaled values lie near 0..1. Beyond it a value is a unit or
// typing error, and one such value (3e38) turns training and predictions into infinities.
const maxMagnitude = 1e9

// parseNumber parses one numeric cell. NaN, infinities and magnitudes over 1e9 are
// rejected because they would poison scaling silently.
func parseNumber(s string) (float64, error) {
	v, ok := fastFloat(s)
	if !ok {
		var err error
		if v, err = parseSlow(s); err != nil {
			return 0, err
		}
	}
	if v > maxMagnitude || v < -maxMagnitude {
		return 0, fmt.Errorf("expected a finite number of magnitude at most 1e9, got %q", clip(s))
	}
	return v, nil
}

func parseSlow(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("expected a number, got an empty cell")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("expected a finite number, got %q (out of range)", clip(s))
		}
		return 0, fmt.Errorf("expected a number, got %q", clip(s))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("expected a finite number, got %q", clip(s))
	}
	return v, nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat parses the common cell shape [-+]digits[.digits] whose digits, read as one
// integer, stay below 2^53. The mantissa and the power of ten are then exact in float64,
// so one division is correctly rounded and the result equals strconv.ParseFloat's
// (Clinger's fast path). Anything else (exponents, long mantissas, spaces, words)
// returns ok = false and goes through strconv.
func fastFloat(s string) (float64, bool) {
	i := 0
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		i = 1
	}
	var mant uint64
	start := i
	for i < len(s) && s[i]-'0' < 10 {
		mant = mant*10 + uint64(s[i]-'0')
		i++
	}
	digits := i - start
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i]-'0' < 10 {
			mant = mant*10 + uint64(s[i]-'0')
			i++
		}
		frac = i - fs
	}
	// 19 digits cannot overflow uint64; 2^53 keeps the mantissa exact
	if i != len(s) || digits+frac == 0 || digits+frac > 19 || mant > 1<<53 || frac >= len(pow10) {
		return 0, false
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

// clip shortens a cell for an error message so one bad cell cannot flood a log line.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// ParseEmbedding parses an embedding string the way the original's clean_and_convert did:
// optional surrounding brackets, values separated by any whitespace and/or commas,
// scientific notation allowed. It returns the values; an empty string yields an error.
func ParseEmbedding(s string) ([]float32, error) {
	return appendEmbedding(nil, s)
}

// appendEmbedding is ParseEmbedding appending to dst, so the reader reuses one buffer.
func appendEmbedding(dst []float32, s string) ([]float32, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		if !strings.HasSuffix(t, "]") {
			return dst, errors.New("expected an embedding like \"[ 0.1 -0.2 ... ]\", missing closing bracket")
		}
		t = t[1 : len(t)-1]
	} else if strings.HasSuffix(t, "]") {
		return dst, errors.New("expected an embedding like \"[ 0.1 -0.2 ... ]\", missing opening bracket")
	}
	n := 0
	i := 0
	for i < len(t) {
		c := t[i]
		if c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		j := i
		for j < len(t) {
			c := t[j]
			if c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		v, err := parseNumber(t[i:j])
		if err != nil {
			return dst, fmt.Errorf("embedding value %d: %v", n, err)
		}
		dst = append(dst, float32(v))
		n++
		i = j
	}
	if n == 0 {
		return dst, errors.New("expected an embedding like \"[ 0.1 -0.2 ... ]\", got no values")
	}
	return dst, nil
}

// parseDose parses a dose cell. Raw tables carry text such as "325-650" (a range, whose
// midpoint is used) or "0.5-1"; ranged reports whether that happened. An empty cell is a
// missing dose (NaN).
func parseDose(s string) (v float64, ranged bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN(), false, nil
	}
	v, numErr := parseNumber(s)
	if numErr == nil {
		return v, false, nil
	}
	// a range "a-b": split at a '-' that is not a sign or an exponent sign
	for k := 1; k < len(s); k++ {
		if s[k] == '-' && s[k-1] != 'e' && s[k-1] != 'E' {
			a, errA := parseNumber(s[:k])
			b, errB := parseNumber(s[k+1:])
			if errA == nil && errB == nil {
				return (a + b) / 2, true, nil
			}
			break
		}
	}
	if strings.Contains(numErr.Error(), "finite") {
		return 0, false, numErr
	}
	return 0, false, fmt.Errorf("expected a dose (a number or a range like \"325-650\"), got %q", clip(s))
}

// NormalizeUnit makes numeric unit codes compare equal however they are written ("7",
// "7.0") and trims text units, so the vocabulary is stable across files and runs.
func NormalizeUnit(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

var timeLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTime parses the timestamps the original tables use (ISO without zone, treated as UTC).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	// fractional seconds
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05.999999999", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expected a time like 2125-10-05T00:00:00, got %q", clip(s))
}
