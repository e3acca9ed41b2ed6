package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestSamplesNameTheirDrugs: a table with drug names gives each prescription row its
// name (trimmed), in row order; a table of embeddings alone names none.
func TestSamplesNameTheirDrugs(t *testing.T) {
	ds, _, err := ReadTables(context.Background(), []string{filepath.Join("testdata", "raw_small.csv")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := ds.Samples[0]
	if len(s.Drugs) != s.NumRx() || s.Drugs[0] != "Acetaminophen" || s.Drugs[1] != "Vasopressin" {
		t.Fatalf("first group's drugs %q for %d rows", s.Drugs, s.NumRx())
	}
	ds, _, err = ReadTables(context.Background(), []string{filepath.Join("testdata", "synthetic_small.csv")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(ds.Samples, func(s Sample) bool { return s.Drugs != nil }); i >= 0 {
		t.Fatalf("sample %d of an embeddings-only table names drugs %q", i, ds.Samples[i].Drugs)
	}
	var m Sample
	m.Doses, m.Units = []float32{1}, []string{""}
	m.addDrug("")
	m.Doses, m.Units = append(m.Doses, 2), append(m.Units, "")
	m.addDrug("Insulin")
	if !slices.Equal(m.Drugs, []string{"", "Insulin"}) {
		t.Fatalf("a named row after an unnamed one: %q", m.Drugs)
	}
}

// TestPreparedKeepsDrugNames: a prepared dataset gives back the names its samples had,
// and one without names stays without.
func TestPreparedKeepsDrugNames(t *testing.T) {
	for _, table := range []string{"raw_small.csv", "synthetic_small.csv"} {
		ds, _, err := ReadTables(context.Background(), []string{filepath.Join("testdata", table)}, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "p")
		if err := WritePrepared(context.Background(), dir, ds, nil, ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		back, _, err := ReadPrepared(context.Background(), dir, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range ds.Samples {
			if !slices.Equal(ds.Samples[i].Drugs, back.Samples[i].Drugs) {
				t.Fatalf("%s sample %d: drugs %q, want %q", table, i, back.Samples[i].Drugs, ds.Samples[i].Drugs)
			}
		}
	}
}
