package mimic

import (
	"fmt"

	"github.com/blueblood/blueblood/pipeline"
	"math"
	"strconv"
	"strings"
)

// analyte is one blood value to pair: its lab itemids (MIMIC-III and -IV share them),
// unit, the range outside which a value is dropped, and where it comes from.
type analyte struct {
	Name    string
	ItemIDs []int64
	Unit    string
	Min     float64 // values <= Min are dropped (MinIncl: < Min)
	Max     float64 // values > Max are dropped
	MinIncl bool
	// Source is "" for lab values, "chartevents" for values only charts hold (they stay
	// missing), "computed" for values derived from others of the same blood gas.
	Source string
}

func (a *analyte) keep(v float64) bool {
	if a.MinIncl {
		return v >= a.Min && v <= a.Max
	}
	return v > a.Min && v <= a.Max
}

var inf = math.Inf(1)

// lab is an analyte whose values must be positive and at most max.
func lab(name, unit string, max float64, items ...int64) analyte {
	return analyte{Name: name, ItemIDs: items, Unit: unit, Min: 0, Max: max}
}

// Presets are the named analyte lists (--analytes).
const (
	PresetBloodGas  = pipeline.AnalytesBloodGas
	PresetChemistry = pipeline.AnalytesChemistry
)

// chemistry: the chemistry panel and blood count, by their lab itemids; potassium,
// sodium, chloride, glucose, hematocrit and hemoglobin also by their blood-gas
// (whole-blood) itemids, which measure the same quantity.
var chemistry = []analyte{
	lab("potassium", "mEq/L", inf, 50971, 50822),
	lab("sodium", "mEq/L", inf, 50983, 50824),
	lab("chloride", "mEq/L", inf, 50902, 50806),
	lab("bicarbonate", "mEq/L", inf, 50882),
	lab("urea_nitrogen", "mg/dL", inf, 51006),
	lab("creatinine", "mg/dL", inf, 50912),
	lab("glucose", "mg/dL", inf, 50931, 50809),
	{Name: "anion_gap", ItemIDs: []int64{50868}, Unit: "mEq/L", Min: -inf, Max: inf},
	lab("magnesium", "mg/dL", inf, 50960),
	lab("calcium_total", "mg/dL", inf, 50893),
	lab("phosphate", "mg/dL", inf, 50970),
	lab("hematocrit", "%", 100, 51221, 50810),
	lab("hemoglobin", "g/dL", inf, 51222, 50811),
	lab("platelets", "K/uL", inf, 51265),
	lab("wbc", "K/uL", inf, 51301, 51300),
}

// bloodGas: the original final table's 25 columns, in its order, with mimic-code's
// filters (mimic-tables.md §2).
var bloodGas = []analyte{
	lab("ph", "units", inf, 50820),
	lab("pco2", "mm Hg", inf, 50818),
	lab("po2", "mm Hg", 800, 50821),
	lab("bicarbonate", "mEq/L", inf, 50803),
	{Name: "baseexcess", ItemIDs: []int64{50802}, Unit: "mEq/L", Min: -inf, Max: inf, MinIncl: true},
	lab("totalco2", "mEq/L", inf, 50804),
	lab("hematocrit", "%", 100, 50810),
	lab("hemoglobin", "g/dL", inf, 50811),
	lab("sodium", "mEq/L", inf, 50824),
	lab("potassium", "mEq/L", inf, 50822),
	lab("chloride", "mEq/L", inf, 50806),
	lab("glucose", "mg/dL", inf, 50809),
	lab("lactate", "mmol/L", inf, 50813),
	lab("so2", "%", 100, 50817),
	{Name: "spo2", Unit: "%", Source: "chartevents"},
	{Name: "fio2_chartevents", Unit: "%", Source: "chartevents"},
	{Name: "aado2_calc", Unit: "mm Hg", Source: "computed"},
	{Name: "pao2fio2", Unit: "ratio", Source: "computed"},
	lab("temperature", "deg C", inf, 50825),
	{Name: "fio2", ItemIDs: []int64{50816}, Unit: "%", Min: 20, Max: 100, MinIncl: true},
	lab("aado2", "mm Hg", inf, 50801),
	lab("carboxyhemoglobin", "%", inf, 50805),
	lab("methemoglobin", "%", inf, 50814),
	lab("calcium", "mmol/L", inf, 50808),
	{Name: "intubated", ItemIDs: []int64{50812}, Unit: "", Source: "text"},
}

// labItem is a d_labitems row.
type labItem struct {
	ID    int64
	Label string
	Unit  string // the most frequent valueuom seen, filled while reading labevents
}

// resolveAnalytes turns --analytes into analytes: a preset, or a comma list of itemids
// and d_labitems labels (labels match case-insensitively; one label may name several
// itemids, as "Potassium" does for blood and urine, and all of them count).
func resolveAnalytes(spec string, items []labItem) ([]analyte, error) {
	switch strings.TrimSpace(spec) {
	case "", PresetChemistry:
		return clone(chemistry), nil
	case PresetBloodGas:
		return clone(bloodGas), nil
	}
	byID := map[int64]labItem{}
	byLabel := map[string][]labItem{}
	for _, it := range items {
		byID[it.ID] = it
		l := strings.ToLower(strings.TrimSpace(it.Label))
		byLabel[l] = append(byLabel[l], it)
	}
	var out []analyte
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a := analyte{Min: -inf, Max: inf, MinIncl: true}
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			it, ok := byID[id]
			if !ok && len(items) > 0 {
				return nil, fmt.Errorf("analyte %s: no such itemid in d_labitems; expected an itemid or a label of d_labitems, or %s or %s", part, PresetBloodGas, PresetChemistry)
			}
			a.Name, a.ItemIDs = analyteName(it.Label, id), []int64{id}
		} else {
			its := byLabel[strings.ToLower(part)]
			if len(its) == 0 {
				return nil, fmt.Errorf("analyte %q: no such label in d_labitems; expected an itemid or a label of d_labitems, or %s or %s", part, PresetBloodGas, PresetChemistry)
			}
			a.Name = analyteName(part, 0)
			for _, it := range its {
				a.ItemIDs = append(a.ItemIDs, it.ID)
			}
		}
		if seen[a.Name] {
			a.Name = fmt.Sprintf("%s_%d", a.Name, a.ItemIDs[0])
		}
		seen[a.Name] = true
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("analytes %q: expected %s, %s or a comma list of itemids or labels", spec, PresetBloodGas, PresetChemistry)
	}
	return out, nil
}

// analyteName makes a column-safe name from a label: "Urea Nitrogen" -> urea_nitrogen.
func analyteName(label string, id int64) string {
	var sb strings.Builder
	under := false
	for _, r := range strings.ToLower(label) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && sb.Len() > 0 {
				sb.WriteByte('_')
			}
			under = false
			sb.WriteRune(r)
		} else {
			under = true
		}
	}
	if sb.Len() == 0 {
		return fmt.Sprintf("item_%d", id)
	}
	return sb.String()
}

func clone(a []analyte) []analyte { return append([]analyte(nil), a...) }
