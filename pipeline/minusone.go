package pipeline

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Tables in the original format write every missing blood value as -1.0. Whether an
// analyte's -1.0 cells are that code or real values of -1 is decided per analyte from the
// column's distribution: a missing code is a point mass, far more frequent than the values
// next to it (glucose: 1,388 cells of -1.0 against one or two cells at each nearby value),
// whereas a real -1 is about as frequent as its neighbours (base excess, in whole units
// from about -10 to 10: 36 cells of -1 against 23 of -2, 263 of 0, 8 of -3 and 68 of 1).
//
// The test: k is the number of -1.0 cells; m is the median cell count of the
// minusOneNeighbours distinct other values nearest to -1 (0 when there are none). Then
//   - k >= pointMassRatio*m: a point mass, -1.0 is missing;
//   - no other value is negative: missing (-1 would be the column's only negative value);
//   - k <= valueRatio*m: -1 is a value like its neighbours;
//   - otherwise the data do not settle it: missing (a code read as a value does more harm
//     than a few real -1s dropped), and the report warns that the column is ambiguous.
//
// ReadOptions.MinusOne overrides the test for all or some analytes.
const (
	minusOneNeighbours = 4
	pointMassRatio     = 5
	valueRatio         = 2
)

// MinusOneRuleText describes the test for reports and docs.
var MinusOneRuleText = fmt.Sprintf("-1.0 is missing where its cells number at least %d times the median count of the %d distinct values nearest to -1, or where no other value is negative; a value where they number at most %d times that median; ambiguous (read as missing, with a warning) in between",
	pointMassRatio, minusOneNeighbours, valueRatio)

// The modes of a MinusOneRule.
const (
	MinusOneAuto    = "auto"    // decide from the data (the test above)
	MinusOneMissing = "missing" // -1.0 is the missing code
	MinusOneValue   = "value"   // -1.0 is a real value of -1
)

// MinusOneModes lists the modes, for flags and hyperparameter docs.
var MinusOneModes = []string{MinusOneAuto, MinusOneMissing, MinusOneValue}

// MinusOneRule says how a reader settles -1.0 in tables that use it as the missing code:
// the mode for every analyte, and modes for some analytes by name.
type MinusOneRule struct {
	All string            // "" means auto
	Per map[string]string // analyte -> mode
}

// ParseMinusOneRule reads "auto", "missing", "value", or a comma-separated list of
// ANALYTE=MODE items with at most one bare MODE for the analytes not named, e.g.
// "baseexcess=value,glucose=missing" or "missing,baseexcess=value". "" means auto.
func ParseMinusOneRule(s string) (MinusOneRule, error) {
	var r MinusOneRule
	bad := func(why string) (MinusOneRule, error) {
		return MinusOneRule{}, fmt.Errorf("missing code %q: %s; expected %s, or ANALYTE=MODE items separated by commas", s, why, strings.Join(MinusOneModes, ", "))
	}
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		name, mode, named := strings.Cut(item, "=")
		if !named {
			name, mode = "", item
		}
		name, mode = strings.TrimSpace(name), strings.TrimSpace(mode)
		if !slices.Contains(MinusOneModes, mode) {
			return bad(fmt.Sprintf("mode %q", mode))
		}
		switch {
		case !named && r.All != "":
			return bad("more than one mode for all analytes")
		case !named:
			r.All = mode
		case name == "":
			return bad(fmt.Sprintf("item %q names no analyte", item))
		case r.Per[name] != "":
			return bad(fmt.Sprintf("analyte %s set twice", name))
		default:
			if r.Per == nil {
				r.Per = map[string]string{}
			}
			r.Per[name] = mode
		}
	}
	return r, nil
}

// String is the rule's plain form, which ParseMinusOneRule reads back: the mode for all
// analytes (omitted when auto and analytes are named), then the named ones sorted.
func (r MinusOneRule) String() string {
	var items []string
	if r.All != "" && r.All != MinusOneAuto || len(r.Per) == 0 {
		items = append(items, r.mode(""))
	}
	names := make([]string, 0, len(r.Per))
	for n := range r.Per {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		items = append(items, n+"="+r.Per[n])
	}
	return strings.Join(items, ",")
}

// NormalizeMinusOneRule checks s and returns its plain form (for hyperparameters).
func NormalizeMinusOneRule(s string) (string, error) {
	r, err := ParseMinusOneRule(s)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// mode is the rule's mode for an analyte.
func (r MinusOneRule) mode(analyte string) string {
	if m := r.Per[analyte]; m != "" {
		return m
	}
	if r.All == "" {
		return MinusOneAuto
	}
	return r.All
}

// check fails when the rule names an analyte the table lacks.
func (r MinusOneRule) check(analytes []string) error {
	for n := range r.Per {
		if !slices.Contains(analytes, n) {
			return fmt.Errorf("missing code setting names analyte %q, which the table lacks (analytes: %s)", n, strings.Join(analytes, ", "))
		}
	}
	return nil
}

// valueCount is one distinct value and its number of cells.
type valueCount struct {
	v float32
	n int
}

// minusOneTally gathers, for one analyte, what the test needs: the -1.0 cells, the other
// negative values, and the distinct values nearest to -1 with their counts. Memory is
// bounded: a value pushed out of the nearest set can never return to it, as the set only
// gets closer.
type minusOneTally struct {
	minusOnes, otherNeg int
	near                []valueCount // nearest first; ties by the lower value
}

// closerToMinusOne orders values by distance to -1, the lower value first on ties.
func closerToMinusOne(a, b float32) bool {
	da, db := abs32(a+1), abs32(b+1)
	if da != db {
		return da < db
	}
	return a < b
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// add counts one cell: v observed, or the -1.0 code.
func (t *minusOneTally) add(v float32, observed bool) {
	if !observed {
		if v == -1 {
			t.minusOnes++
		}
		return
	}
	if v < 0 {
		t.otherNeg++
	}
	for i := range t.near {
		if t.near[i].v == v {
			t.near[i].n++
			return
		}
	}
	i := sort.Search(len(t.near), func(i int) bool { return closerToMinusOne(v, t.near[i].v) })
	if i >= minusOneNeighbours {
		return
	}
	t.near = slices.Insert(t.near, i, valueCount{v, 1})
	if len(t.near) > minusOneNeighbours {
		t.near = t.near[:minusOneNeighbours]
	}
}

// neighbourMedian is the median cell count of the nearest values, 0 without any.
func (t *minusOneTally) neighbourMedian() float64 {
	if len(t.near) == 0 {
		return 0
	}
	c := make([]int, len(t.near))
	for i, vc := range t.near {
		c[i] = vc.n
	}
	slices.Sort(c)
	h := len(c) / 2
	if len(c)%2 == 1 {
		return float64(c[h])
	}
	return float64(c[h-1]+c[h]) / 2
}

// decide applies the test: whether -1.0 is missing, and whether the data left it open.
func (t *minusOneTally) decide() (missing, ambiguous bool) {
	k, m := float64(t.minusOnes), t.neighbourMedian()
	switch {
	case k > 0 && k >= pointMassRatio*m:
		return true, false
	case t.otherNeg == 0:
		return true, false
	case k <= valueRatio*m:
		return false, false
	default:
		return true, true
	}
}

// neighbours lists the nearest values and their counts, e.g. "-2 (23), 0 (263)".
func (t *minusOneTally) neighbours() []ValueCount {
	out := make([]ValueCount, len(t.near))
	for i, vc := range t.near {
		// the value as the table wrote it (-1.01), not float32's binary expansion
		v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(vc.v), 'g', -1, 32), 64)
		out[i] = ValueCount{Value: v, Cells: vc.n}
	}
	return out
}

// ValueCount is a value near -1 and its number of cells, as the report shows it.
type ValueCount struct {
	Value float64 `json:"value"`
	Cells int     `json:"cells"`
}
