package mimic

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// The tables the reader uses, by their base names (lower-cased, without .csv/.csv.gz):
// MIMIC-IV keeps them in hosp/ and icu/, MIMIC-III in one folder with upper-case names.
const (
	tPrescriptions = "prescriptions"
	tLabevents     = "labevents"
	tLabitems      = "d_labitems"
	tAdmissions    = "admissions"
	tICUStays      = "icustays"
)

// knownTables are every table of a MIMIC-III or -IV release, so that a folder or channel
// holding some of them is recognised as a whole (its other tables are not read).
var knownTables = map[string]bool{
	tPrescriptions: true, tLabevents: true, tLabitems: true, tAdmissions: true, tICUStays: true,
	"patients": true, "transfers": true, "services": true, "diagnoses_icd": true, "procedures_icd": true,
	"d_icd_diagnoses": true, "d_icd_procedures": true, "d_hcpcs": true, "drgcodes": true, "emar": true,
	"emar_detail": true, "hcpcsevents": true, "microbiologyevents": true, "omr": true, "pharmacy": true,
	"poe": true, "poe_detail": true, "provider": true, "caregiver": true, "chartevents": true,
	"datetimeevents": true, "d_items": true, "ingredientevents": true, "inputevents": true,
	"inputevents_cv": true, "inputevents_mv": true, "outputevents": true, "procedureevents": true,
	"procedureevents_mv": true, "callout": true, "caregivers": true, "cptevents": true, "d_cpt": true,
	"noteevents": true, "icd_diagnoses": true, "icd_procedures": true,
}

// tableName is a file's table name: its base name lower-cased, without .csv or .csv.gz.
func tableName(file string) string {
	b := strings.ToLower(path.Base(strings.ReplaceAll(file, "\\", "/")))
	b = strings.TrimSuffix(b, ".gz")
	return strings.TrimSuffix(b, ".csv")
}

// tableSet is where each table of one MIMIC copy is.
type tableSet map[string]string

// findTables lists the inputs and picks out the tables by name; a table found twice
// (two copies in one input) is an error naming both.
func findTables(ctx context.Context, inputs []string, store pipeline.ObjectStore) (tableSet, error) {
	ts := tableSet{}
	for _, in := range inputs {
		names, err := pipeline.ListTables(ctx, in, store)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			t := tableName(n)
			if !knownTables[t] {
				continue
			}
			if prev, dup := ts[t]; dup && prev != n {
				return nil, fmt.Errorf("%s and %s are both the %s table; expected one copy of MIMIC per input", prev, n, t)
			}
			ts[t] = n
		}
	}
	for _, t := range []string{tPrescriptions, tLabevents} {
		if ts[t] == "" {
			return nil, fmt.Errorf("%s: no %s table (%s.csv or %s.csv.gz, MIMIC-IV in hosp/, MIMIC-III as %s.csv.gz); expected a MIMIC-III or MIMIC-IV folder",
				strings.Join(inputs, ", "), t, t, t, strings.ToUpper(t))
		}
	}
	return ts, nil
}

// looksNative reports whether an input is a MIMIC folder (prefix) holding
// prescriptions and labevents, or one MIMIC table: cheap, from names and at most one
// header, so that the separate prescriptions and blood-test tables the pipeline also
// reads (analyte columns, no itemid) are not taken for MIMIC.
func looksNative(ctx context.Context, in string, store pipeline.ObjectStore) (bool, error) {
	names, err := pipeline.ListTables(ctx, in, store)
	if err != nil {
		// an empty or missing folder is no MIMIC copy; the table readers say what is wrong
		return false, nil
	}
	if len(names) == 1 && names[0] == in {
		t := tableName(in)
		if !knownTables[t] {
			return false, nil
		}
		return headerHas(ctx, in, store, nativeColumns[t]...)
	}
	byName := map[string]string{}
	for _, n := range names {
		byName[tableName(n)] = n
	}
	if byName[tPrescriptions] == "" || byName[tLabevents] == "" {
		return false, nil
	}
	return headerHas(ctx, byName[tLabevents], store, nativeColumns[tLabevents]...)
}

// nativeColumns are the columns that tell a MIMIC table from a look-alike; tables not
// listed need a subject_id or an itemid.
var nativeColumns = map[string][]string{
	tPrescriptions: {"subject_id", "hadm_id", "drug", "dose_val_rx", "route"},
	tLabevents:     {"subject_id", "itemid", "charttime", "valuenum"},
	tLabitems:      {"itemid", "label"},
}

// headerHas reports whether the table's header has every column (any case); with no
// columns given, whether it has subject_id or itemid.
func headerHas(ctx context.Context, name string, store pipeline.ObjectStore, cols ...string) (bool, error) {
	f, err := pipeline.OpenTable(ctx, name, store)
	if err != nil {
		return false, err
	}
	defer f.Close()
	idx, err := newCSVReader(f, name).header()
	if err != nil {
		return false, nil // not a table this format reads; the others will say why
	}
	if len(cols) == 0 {
		return optional(idx, "subject_id") >= 0 || optional(idx, "itemid") >= 0, nil
	}
	for _, c := range cols {
		if optional(idx, c) < 0 {
			return false, nil
		}
	}
	return true, nil
}
