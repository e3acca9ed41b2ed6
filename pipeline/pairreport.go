package pipeline

import (
	"fmt"
	"strings"
)

// PairReport is what pairing native clinical tables (pipeline/mimic) did: the settings,
// and per analyte how often a value before and after a prescription group was found
// and how far from it.
type PairReport struct {
	Format  string  `json:"format"` // "mimic-iii" or "mimic-iv"
	Pairing Pairing `json:"pairing"`
	// GroupsFormed counts the (subject, start) groups of prescriptions; groups with no
	// analyte paired before and after are dropped (Report.Groups counts those kept).
	GroupsFormed  int `json:"groups_formed"`
	GroupsDropped int `json:"groups_without_pair"`
	// LabRows is every labevents row read; LabValuesKept those of the selected itemids,
	// for subjects with prescriptions, with a value in range.
	LabRows       int `json:"lab_rows"`
	LabValuesKept int `json:"lab_values_kept"`
	// UnparsedDoses counts dose_val_rx text that is not a number or range (kept missing);
	// NoStart counts prescriptions without a start time (skipped).
	UnparsedDoses int `json:"unparsed_doses"`
	NoStart       int `json:"prescriptions_without_start"`
	// CrossAdmission counts pre or post values from another admission than the
	// prescription's (0 unless Pairing.AnyAdmission or the original rule);
	// CrossAdmissionGroups the groups with such a value.
	CrossAdmission       int            `json:"cross_admission_values"`
	CrossAdmissionGroups int            `json:"cross_admission_groups"`
	Analytes             []AnalytePairs `json:"analytes"`
	Notes                []string       `json:"notes,omitempty"`
}

// AnalytePairs is one analyte's pairing figures over the kept groups.
type AnalytePairs struct {
	Analyte string  `json:"analyte"`
	Unit    string  `json:"unit,omitempty"`
	ItemIDs []int64 `json:"itemids,omitempty"`
	Pre     int     `json:"groups_with_pre"`
	Post    int     `json:"groups_with_post"`
	// Pairs counts groups with both; PairSubjects the subjects they come from.
	Pairs        int `json:"groups_with_pair"`
	PairSubjects int `json:"pair_subjects"`
	// PreHours and PostHours are the gaps of the paired values: from the pre value to
	// the group's start, and from the start to the post value.
	PreHours  Quantile `json:"pre_hours"`
	PostHours Quantile `json:"post_hours"`
}

// Quantiles summarises hours (median, 90th percentile, maximum); v is sorted in place.
func Quantiles(v []float64) Quantile { return quantiles(v) }

func (p *PairReport) writeText(ew *errWriter) {
	mode := p.Pairing.Mode
	if mode == PairingWindows {
		mode = "windows: pre within " + fmtHours(p.Pairing.PreWindowHours) + " before, post " + fmtHours(p.Pairing.MinLagHours) + " to " + fmtHours(p.Pairing.PostWindowHours) + " after"
		if p.Pairing.AnyAdmission {
			mode += ", any admission"
		} else {
			mode += ", same admission"
		}
	}
	ew.printf("native tables:       %s, pairing %s\n", p.Format, mode)
	ew.printf("                     %d groups formed, %d without any pair dropped; %d lab rows read, %d values kept; %d doses unparseable, %d prescriptions without start; %d values from another admission (in %d groups)\n",
		p.GroupsFormed, p.GroupsDropped, p.LabRows, p.LabValuesKept, p.UnparsedDoses, p.NoStart, p.CrossAdmission, p.CrossAdmissionGroups)
	ew.printf("pairs per analyte:   groups with pre / post / both (subjects); gap hours median, 90%%, max (pre | post)\n")
	for _, a := range p.Analytes {
		ew.printf("  %-20s %6d / %6d / %6d (%d)  %.1f %.1f %.1f | %.1f %.1f %.1f\n", a.Analyte, a.Pre, a.Post, a.Pairs, a.PairSubjects,
			a.PreHours.Median, a.PreHours.P90, a.PreHours.Max, a.PostHours.Median, a.PostHours.P90, a.PostHours.Max)
	}
	if len(p.Notes) > 0 {
		ew.printf("notes:               %s\n", strings.Join(p.Notes, "; "))
	}
}

func fmtHours(h float64) string { return fmt.Sprintf("%g h", h) }
