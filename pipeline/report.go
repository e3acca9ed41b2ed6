package pipeline

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// RowError is a bad cell or row: it names the file, line and column and says what was
// expected. Class groups errors for the report ("not a number", "wrong column count").
type RowError struct {
	File   string
	Line   int
	Column int // 1-based; 0 when the error concerns the whole row
	Field  string
	Class  string
	Reason string
}

func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%d: column %s: %s", e.File, e.Line, e.Column, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Reason)
}

// Error classes used in reports.
const (
	ClassMalformed   = "malformed csv"
	ClassColumnCount = "wrong column count"
	ClassNotNumber   = "not a number"
	ClassNotFinite   = "nan, inf or > 1e9"
	ClassEmbedding   = "bad embedding"
	ClassMissingID   = "missing id"
	ClassBadTime     = "bad time"
	// classes only Strict, MaxGroupRows and CheckUnit produce
	ClassMissingDrug  = "missing drug"
	ClassBadUnit      = "bad unit"
	ClassInconsistent = "inconsistent group"
	ClassGroupSize    = "group too large"
)

// maxKeptRejections bounds the rejected-row list kept in a report; counts stay exact.
const maxKeptRejections = 100

// AnalyteMissing is the share of samples in which an analyte was not observed.
type AnalyteMissing struct {
	Analyte string  `json:"analyte"`
	Pre     float64 `json:"pre_missing"`
	Post    float64 `json:"post_missing"`
}

// MissingCode is the decision on one analyte's -1.0 cells in tables that use -1.0 as the
// missing code (minusone.go): the counts the test saw and how it was settled.
type MissingCode struct {
	Analyte         string `json:"analyte"`
	MinusOneMissing bool   `json:"minus_one_missing"`
	MinusOnes       int    `json:"minus_one_cells"`
	OtherNegatives  int    `json:"other_negative_cells"`
	// Neighbours are the distinct values nearest to -1 and their cells; NeighbourMedian is
	// the median of those counts, which the -1.0 cells are compared with.
	Neighbours      []ValueCount `json:"neighbours,omitempty"`
	NeighbourMedian float64      `json:"neighbour_median"`
	// Ambiguous: the counts settled nothing (read as missing; the report warns).
	Ambiguous bool `json:"ambiguous,omitempty"`
	// DecidedBy is MinusOneByData, MinusOneBySetting or MinusOneByLayout.
	DecidedBy string `json:"decided_by"`
}

// How a MissingCode was settled.
const (
	MinusOneByData    = "data"    // the point-mass test
	MinusOneBySetting = "setting" // ReadOptions.MinusOne (--missing-code, missing_code)
	MinusOneByLayout  = "layout"  // a model's or the train split's earlier decision
)

// MinusOneWarning is the warning line for analytes whose -1.0 the data left undecided,
// or "" when there are none.
func (r *Report) MinusOneWarning() string {
	var items []string
	for _, m := range r.MissingCodes {
		if m.Ambiguous {
			items = append(items, fmt.Sprintf("%s (%d cells of -1.0; %s)", m.Analyte, m.MinusOnes, m.neighbourText()))
		}
	}
	if len(items) == 0 {
		return ""
	}
	return fmt.Sprintf("warning: -1.0 is ambiguous in %s: neither a point mass (>= %d times the median count of the nearest values) nor like its neighbours (<= %d times); read as missing. Set it with --missing-code or the missing_code hyperparameter (ANALYTE=missing or ANALYTE=value)",
		strings.Join(items, ", "), pointMassRatio, valueRatio)
}

func (m MissingCode) neighbourText() string {
	if len(m.Neighbours) == 0 {
		return "no other values"
	}
	var near []string
	for _, n := range m.Neighbours {
		near = append(near, fmt.Sprintf("%g: %d", n.Value, n.Cells))
	}
	return fmt.Sprintf("nearest values %s, median %g", strings.Join(near, ", "), m.NeighbourMedian)
}

// Report accounts for everything ReadTables saw and did.
type Report struct {
	Files         int            `json:"files"`
	RowsRead      int            `json:"rows_read"`
	RowsRejected  int            `json:"rows_rejected"`
	RejectReasons map[string]int `json:"reject_reasons,omitempty"`
	// Rejected lists the first rejected rows (up to 100) with their one-line errors.
	Rejected []string `json:"rejected,omitempty"`

	Groups        int `json:"groups"`
	Subjects      int `json:"subjects"`
	Prescriptions int `json:"prescriptions"`
	// LargestGroup is the most prescription rows in one group; GroupsOver20 counts groups
	// with more than 20 (the original model's block).
	LargestGroup int `json:"largest_group"`
	GroupsOver20 int `json:"groups_over_20"`

	// DoseRanges counts doses written as ranges ("325-650"), read as their midpoint;
	// MissingDoses counts empty doses; MissingDrugs counts empty drug names (zero embedding).
	DoseRanges   int `json:"dose_ranges"`
	MissingDoses int `json:"missing_doses"`
	MissingDrugs int `json:"missing_drugs"`
	// InconsistentGroups counts groups whose rows disagree on pre or post values; the
	// first row's values are used.
	InconsistentGroups int `json:"inconsistent_groups"`
	// Joined tables: groups dropped for lack of a pre or post test within the gap.
	GroupsWithoutPre  int `json:"groups_without_pre"`
	GroupsWithoutPost int `json:"groups_without_post"`

	MissingRate []AnalyteMissing `json:"missing_rate"`
	// MissingCodes is the per-analyte decision on -1.0 cells (tables using the code only).
	MissingCodes []MissingCode `json:"missing_code,omitempty"`
	// Gaps is the time between the paired tests and the prescription (final tables with
	// pre_charttime and post_charttime).
	Gaps *GapReport `json:"gaps,omitempty"`
	// Pairs is what pairing native clinical tables did (pipeline/mimic only).
	Pairs *PairReport `json:"pairs,omitempty"`
}

// InconsistencyLine is the report's line on groups whose rows disagree on pre or
// post values, or "" when none do; commands that print no full report print it.
func (r *Report) InconsistencyLine() string {
	if r.InconsistentGroups == 0 {
		return ""
	}
	return fmt.Sprintf("inconsistent groups: %d (first row's pre/post values used)", r.InconsistentGroups)
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("files read:          %d\n", r.Files)
	ew.printf("rows read:           %d\n", r.RowsRead)
	ew.printf("rows rejected:       %d\n", r.RowsRejected)
	for _, k := range sortedKeys(r.RejectReasons) {
		ew.printf("  %-18s %d\n", k+":", r.RejectReasons[k])
	}
	for _, s := range r.Rejected {
		ew.printf("  %s\n", s)
	}
	ew.printf("groups:              %d from %d subjects\n", r.Groups, r.Subjects)
	ew.printf("prescription rows:   %d (largest group %d, %d groups over 20)\n", r.Prescriptions, r.LargestGroup, r.GroupsOver20)
	if r.DoseRanges+r.MissingDoses+r.MissingDrugs > 0 {
		ew.printf("doses:               %d ranges read as midpoint, %d missing; %d drug names missing\n", r.DoseRanges, r.MissingDoses, r.MissingDrugs)
	}
	if line := r.InconsistencyLine(); line != "" {
		ew.printf("%s\n", line)
	}
	if r.GroupsWithoutPre+r.GroupsWithoutPost > 0 {
		ew.printf("join dropped:        %d groups without a pre test, %d without a post test\n", r.GroupsWithoutPre, r.GroupsWithoutPost)
	}
	if len(r.MissingCodes) > 0 {
		var missing, real, set []string
		for _, m := range r.MissingCodes {
			if m.DecidedBy != MinusOneByData {
				set = append(set, m.Analyte)
			}
			if m.MinusOneMissing {
				missing = append(missing, m.Analyte)
			} else {
				real = append(real, fmt.Sprintf("%s (%d cells of -1; %s)", m.Analyte, m.MinusOnes, m.neighbourText()))
			}
		}
		ew.printf("-1.0 read as missing in %d analytes; -1 kept as a value in: %s\n", len(missing), orNone(real))
		if len(set) > 0 {
			ew.printf("  settled by the missing-code setting or a layout, not the data: %s\n", strings.Join(set, ", "))
		}
		if w := r.MinusOneWarning(); w != "" {
			ew.printf("%s\n", w)
		}
	}
	if r.Gaps != nil {
		r.Gaps.writeText(ew)
	}
	if r.Pairs != nil {
		r.Pairs.writeText(ew)
	}
	if len(r.MissingRate) > 0 {
		ew.printf("missing rate per analyte (pre / post):\n")
		for _, m := range r.MissingRate {
			ew.printf("  %-22s %5.1f%% / %5.1f%%\n", m.Analyte, 100*m.Pre, 100*m.Post)
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, a...)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
