package mimic

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// readCSV reads a whole small CSV file (gzip'd or not) for comparisons.
func readCSV(t *testing.T, p string) []map[string]string {
	t.Helper()
	var text string
	if strings.HasSuffix(p, ".gz") {
		text = readGz(t, p)
	} else {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text = string(b)
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// chartOnly are the final table's columns that need chartevents (absent from the
// demo): spo2, fio2_chartevents, and the values computed from the latter.
var chartOnly = map[string]bool{"spo2": true, "fio2_chartevents": true, "aado2_calc": true, "pao2fio2": true}

// TestDemoIIIOriginal reproduces blue-blood-final.csv from the MIMIC-III demo with
// --pairing original: the same 281 (subject, date) groups, pre and post chart times,
// and every lab-derived value (chartevents-only columns excepted).
func TestDemoIIIOriginal(t *testing.T) {
	dir := demoDir(t, "mimic-iii-demo-1.4")
	final := filepath.Join("..", "..", "..", "shared", "data", "blue-blood-final.csv")
	if _, err := os.Stat(final); err != nil {
		t.Skip(err)
	}
	table := filepath.Join(t.TempDir(), "pairs.csv")
	opt := pipeline.ReadOptions{Pairing: pipeline.Pairing{Analytes: PresetBloodGas, Mode: pipeline.PairingOriginal, Table: table}}
	if _, _, err := (Format{}).Read(context.Background(), []string{dir}, opt); err != nil {
		t.Fatal(err)
	}
	got := groupsOf(readCSV(t, table))
	want := groupsOf(readCSV(t, final))
	if len(got) != len(want) {
		t.Errorf("%d groups, want %d", len(got), len(want))
	}
	compared, bad := 0, 0
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("group %s missing", k)
			continue
		}
		for _, when := range []string{"pre", "post"} {
			if gt, wt := g[when+"_charttime"], w[when+"_charttime"]; gt != wt {
				t.Errorf("group %s: %s_charttime %s, want %s", k, when, gt, wt)
			}
			for _, a := range bloodGas {
				if chartOnly[a.Name] {
					continue
				}
				col := when + "_" + a.Name
				wv, _ := strconv.ParseFloat(w[col], 64)
				if wv == -1 { // the final table's missing code (base excess can be -1 too)
					if g[col] != "" && g[col] != "-1" {
						t.Errorf("group %s: %s = %s, want missing", k, col, g[col])
						bad++
					}
					continue
				}
				gv, err := strconv.ParseFloat(g[col], 64)
				compared++
				if err != nil || float32(gv) != float32(wv) {
					t.Errorf("group %s: %s = %q, want %v", k, col, g[col], wv)
					bad++
				}
			}
		}
	}
	t.Logf("%d groups, %d lab values compared, %d differ", len(want), compared, bad)
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra group %s", k)
		}
	}
}

// groupsOf keys a final table's first row per (subject, date).
func groupsOf(rows []map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, r := range rows {
		k := r["subject_id"] + " " + r["prescription_start"][:10]
		if _, ok := out[k]; !ok {
			out[k] = r
		}
	}
	return out
}

// TestOriginalRule: on a small MIMIC-III fixture, the original rule keeps first-day
// arterial blood gases with po2 only, pairs the latest before and the earliest after
// each date across admissions, and keeps one row per distinct drug.
func TestOriginalRule(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ICUSTAYS.csv", "ROW_ID,SUBJECT_ID,HADM_ID,ICUSTAY_ID,INTIME,OUTTIME\n1,7,100,900,2150-01-01 10:00:00,2150-01-03 10:00:00\n2,7,101,901,2150-03-01 10:00:00,2150-03-02 10:00:00\n")
	write("D_LABITEMS.csv", "ROW_ID,ITEMID,LABEL\n1,50821,pO2\n")
	lab := "ROW_ID,SUBJECT_ID,HADM_ID,ITEMID,CHARTTIME,VALUE,VALUENUM,VALUEUOM,FLAG\n" +
		// an arterial gas 5 h before intime (in the window) and one at 20 h
		"1,7,100,50800,2150-01-01 05:00:00,ART,,,\n2,7,100,50821,2150-01-01 05:00:00,90,90,mm Hg,\n3,7,100,50820,2150-01-01 05:00:00,7.30,7.30,units,\n" +
		"4,7,100,50800,2150-01-02 06:00:00,ART,,,\n5,7,100,50821,2150-01-02 06:00:00,95,95,mm Hg,\n6,7,100,50821,2150-01-02 06:00:00,97,97,mm Hg,\n" +
		// no po2: not a blood gas; outside the first day: not kept
		"7,7,100,50800,2150-01-02 07:00:00,ART,,,\n8,7,100,50820,2150-01-02 07:00:00,7.1,7.1,units,\n" +
		"9,7,100,50800,2150-01-02 12:00:00,ART,,,\n10,7,100,50821,2150-01-02 12:00:00,99,99,mm Hg,\n" +
		// a venous gas the model does not call arterial (po2 5: probability 0.55), then the next stay's gas
		"11,7,100,50800,2150-01-01 20:00:00,VEN,,,\n12,7,100,50821,2150-01-01 20:00:00,5,5,mm Hg,\n" +
		"13,7,101,50800,2150-03-01 11:00:00,ART,,,\n14,7,101,50821,2150-03-01 11:00:00,120,120,mm Hg,\n"
	write("LABEVENTS.csv", lab)
	write("PRESCRIPTIONS.csv", "ROW_ID,SUBJECT_ID,HADM_ID,STARTDATE,DRUG,ROUTE,DOSE_VAL_RX,DOSE_UNIT_RX\n"+
		"1,7,100,2150-01-02 00:00:00,KCl,PO,20,mEq\n2,7,100,2150-01-02 00:00:00,KCl,IV,40,mEq\n3,7,100,2150-01-02 00:00:00,Insulin,SC,2,UNIT\n"+
		"4,7,100,2150-01-05 00:00:00,KCl,PO,20,mEq\n5,7,100,2150-01-01 00:00:00,KCl,PO,20,mEq\n")
	table := filepath.Join(t.TempDir(), "pairs.csv")
	ds, _, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{Pairing: pipeline.Pairing{Analytes: PresetBloodGas, Mode: pipeline.PairingOriginal, Table: table}})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, table)
	got := map[string]string{}
	for _, r := range rows {
		got[r["prescription_start"]] += r["pre_charttime"] + " " + r["pre_po2"] + " -> " + r["post_charttime"] + " " + r["post_po2"] + " " + r["drug_name"] + ";"
	}
	want := map[string]string{
		// 2150-01-01 has no gas before it: dropped
		"2150-01-02": "2150-01-01T05:00:00 90 -> 2150-01-02T06:00:00 97 KCl;2150-01-01T05:00:00 90 -> 2150-01-02T06:00:00 97 Insulin;",
		"2150-01-05": "2150-01-02T06:00:00 97 -> 2150-03-01T11:00:00 120 KCl;",
	}
	if len(got) != len(want) || len(ds.Samples) != 2 {
		t.Fatalf("groups %v; want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s\nwant %s", k, got[k], w)
		}
	}
}
