package pipeline

import (
	"fmt"
	"math"
	"strings"
)

// Pairing configures how native clinical tables (MIMIC-III/IV, package pipeline/mimic)
// are turned into samples: which lab values, and which of them count as the values
// before and after a group of prescriptions.
type Pairing struct {
	// Analytes is a preset ("blood-gas", "chemistry") or a comma list of itemids or
	// d_labitems labels; "" means the chemistry preset.
	Analytes string `json:"analytes"`
	// PreWindowHours: pre = the latest value at most this long before the group's start.
	PreWindowHours float64 `json:"pre_window_hours"`
	// MinLagHours and PostWindowHours: post = the first value in [start+MinLag, start+PostWindow].
	MinLagHours     float64 `json:"min_lag_hours"`
	PostWindowHours float64 `json:"post_window_hours"`
	// AnyAdmission lets a value pair with a prescription of another admission (or with
	// none, as outpatient labs have); off, both must share the prescription's hadm_id.
	AnyAdmission bool `json:"any_admission,omitempty"`
	// Mode is PairingWindows ("" means it) or PairingOriginal, the original final
	// table's rule (first-day arterial blood gases, the latest before and the first
	// after the prescription date, any distance, any admission).
	Mode string `json:"mode"`
	// Table, when set, is a local .csv file (gzip'd when it ends in .gz) that receives
	// the pairs in the final-table shape, one row per prescription, which ReadTables
	// reads back (prepare --table).
	Table string `json:"-"`
}

// The analyte presets (Pairing.Analytes); pipeline/mimic defines what they hold.
const (
	AnalytesChemistry = "chemistry"
	AnalytesBloodGas  = "blood-gas"
)

// AnalytesSyntax describes what Pairing.Analytes takes.
const AnalytesSyntax = "chemistry, blood-gas or a comma list of itemids or d_labitems labels"

// NormalizeAnalytes checks an analyte setting and returns it trimmed: a preset or a comma
// list of printable itemids and labels, none empty, at most 1000 characters.
func NormalizeAnalytes(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 1000 {
		return "", fmt.Errorf("expected %s, of at most 1000 characters", AnalytesSyntax)
	}
	for _, part := range strings.Split(v, ",") {
		if strings.TrimSpace(part) == "" {
			return "", fmt.Errorf("empty item in the list; expected %s", AnalytesSyntax)
		}
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return "", fmt.Errorf("control character; expected %s", AnalytesSyntax)
		}
	}
	return v, nil
}

// PairingModes are the values of Pairing.Mode.
var PairingModes = []string{PairingWindows, PairingOriginal}

// The pairing modes.
const (
	PairingWindows  = "windows"
	PairingOriginal = "original"
)

// DefaultPairing is the windowed pairing with the defaults: 24 h before, 1 to 24 h after.
func DefaultPairing() Pairing {
	return Pairing{Analytes: AnalytesChemistry, PreWindowHours: 24, MinLagHours: 1, PostWindowHours: 24, Mode: PairingWindows}
}

// WithDefaults fills what is unset: a zero post window means no windows were given, so
// all three take their defaults (a zero minimum lag is a real setting).
func (p Pairing) WithDefaults() Pairing {
	d := DefaultPairing()
	if p.Analytes == "" {
		p.Analytes = d.Analytes
	}
	if p.PostWindowHours == 0 && p.PreWindowHours == 0 && p.MinLagHours == 0 {
		p.PreWindowHours, p.MinLagHours, p.PostWindowHours = d.PreWindowHours, d.MinLagHours, d.PostWindowHours
	}
	if p.Mode == "" {
		p.Mode = PairingWindows
	}
	return p
}

// Check reports the first setting that cannot be used, in one line.
func (p Pairing) Check() error {
	for _, v := range []struct {
		name string
		v    float64
	}{{"pre window", p.PreWindowHours}, {"min lag", p.MinLagHours}, {"post window", p.PostWindowHours}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) || v.v > maxWindowHours {
			return fmt.Errorf("%s %g hours: expected 0 to %d", v.name, v.v, maxWindowHours)
		}
	}
	if p.MinLagHours > p.PostWindowHours {
		return fmt.Errorf("min lag %g hours is beyond the post window %g hours: expected min lag <= post window", p.MinLagHours, p.PostWindowHours)
	}
	if p.Mode != PairingWindows && p.Mode != PairingOriginal {
		return fmt.Errorf("pairing %q: expected %s or %s", p.Mode, PairingWindows, PairingOriginal)
	}
	return nil
}

// maxWindowHours bounds each window (one year), so offsets fit 32-bit seconds.
const maxWindowHours = 8760
