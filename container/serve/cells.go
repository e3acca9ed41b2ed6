package serve

// Cell rules mirrored from pipeline's table reader (unexported there), so a row sent to
// the endpoint means what the same row meant in training: dose ranges read as their
// midpoint, unit codes compared as numbers ("7" == "7.0"), groups keyed by the date of
// prescription_start.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// normalizeUnit trims text units and writes numeric codes in one canonical form.
func normalizeUnit(s string) string {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// checkUnit rejects units outside the model's training vocabulary, naming them.
func checkUnit(lm *loadedModel, unit string) error {
	if lm.m.KnownUnit(unit) {
		return nil
	}
	if unit == "" {
		return errors.New("missing; expected a dose unit such as mg or a numeric unit code")
	}
	return fmt.Errorf("unknown unit %q; the model was not trained with it", unit)
}

// parseDose reads a dose cell: a number, a range "325-650" (its midpoint), or empty
// (missing, NaN).
func parseDose(cell string) (float32, error) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return float32(math.NaN()), nil
	}
	if v, err := parseFloat32(s); err == nil {
		return v, nil
	}
	// a range "a-b": split at a '-' that is not a sign or an exponent sign
	for k := 1; k < len(s); k++ {
		if s[k] == '-' && s[k-1] != 'e' && s[k-1] != 'E' {
			a, errA := strconv.ParseFloat(strings.TrimSpace(s[:k]), 64)
			b, errB := strconv.ParseFloat(strings.TrimSpace(s[k+1:]), 64)
			if errA == nil && errB == nil {
				if v := float32((a + b) / 2); !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v)) {
					return v, nil
				}
			}
			break
		}
	}
	return 0, fmt.Errorf("%q; expected a dose (a number or a range like 325-650)", clip(s))
}

// parseCell reads a blood value: empty is missing, and so is -1 when sentinel is set.
func parseCell(cell string, sentinel bool) (float32, bool, error) {
	cell = strings.TrimSpace(cell)
	if cell == "" {
		return 0, false, nil
	}
	v, err := parseFloat32(cell)
	if err != nil {
		return 0, false, err
	}
	if sentinel && v == -1 {
		return 0, false, nil
	}
	return v, true, nil
}

func parseFloat32(cell string) (float32, error) {
	cell = strings.TrimSpace(cell)
	f, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("%q; expected a finite number", clip(cell))
	}
	return float32(f), nil
}

var timeLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// parseDate reads prescription_start and returns its date, the group key.
func parseDate(cell string) (string, error) {
	s := strings.TrimSpace(cell)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format("2006-01-02"), nil
		}
	}
	return "", fmt.Errorf("%q; expected a time like 2125-10-05T00:00:00", clip(s))
}

// clip shortens a cell for an error message so one bad cell cannot flood the answer.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
