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
