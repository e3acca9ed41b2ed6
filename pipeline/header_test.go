package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDatasetHeader: the dataset keeps the header line its tables share, as read (quoted
// names unquoted, .csv.gz like .csv), and none when their headers differ.
func TestDatasetHeader(t *testing.T) {
	const (
		head  = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,\"pre_ph\",post_ph,P0,P1"
		row1  = "1,2125-01-01T00:00:00,5,mg,7.31,7.40,0.1,0.2\n"
		row2  = "2,2125-01-01T00:00:00,5,mg,7.21,7.30,0.1,0.2\n"
		other = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,post_ph,pre_ph,P0,P1\n3,2125-01-01T00:00:00,5,mg,7.4,7.3,0.1,0.2\n"
	)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		data := []byte(text)
		if filepath.Ext(name) == ".gz" {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(data)
			zw.Close()
			data = buf.Bytes()
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.csv", head+"\r\n"+row1)
	b := write("b.csv.gz", head+"\n"+row2)
	c := write("c.csv", other)
	want := []string{"subject_id", "prescription_start", "prescription_dose_val_rx", "prescription_dose_unit_rx", "pre_ph", "post_ph", "P0", "P1"}
	for _, tc := range []struct {
		name   string
		inputs []string
		want   []string
	}{
		{"one table", []string{a}, want},
		{"csv and csv.gz agree", []string{a, b}, want},
		{"headers differ", []string{a, c}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, _, err := ReadTables(context.Background(), tc.inputs, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Header, tc.want) {
				t.Fatalf("header %q, want %q", ds.Header, tc.want)
			}
		})
	}
}

// TestPreparedKeepsHeader: a prepared dataset carries its source table's header, so a
// model trained on it still reads CSV rows sent without one.
func TestPreparedKeepsHeader(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "prepared")
	if _, err := Prepare(ctx, PrepareOptions{Inputs: []string{"testdata/final_small.csv"}, Output: out}); err != nil {
		t.Fatal(err)
	}
	src, _, err := ReadTables(ctx, []string{"testdata/final_small.csv"}, ReadOptions{})
	if err != nil || len(src.Header) == 0 {
		t.Fatalf("source header %q: %v", src.Header, err)
	}
	ds, _, err := ReadPrepared(ctx, filepath.Join(out, "train"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Header, src.Header) {
		t.Errorf("prepared header %q, want the source's %q", ds.Header, src.Header)
	}
}

// TestRowSamples: each data row maps to the sample (group) it joined, in reading order,
// also when a group's rows are not adjacent.
func TestRowSamples(t *testing.T) {
	const table = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n" +
		"1,2125-01-01T08:00:00,5,mg,7.31,7.40,0.1,0.2\n" +
		"2,2125-01-01T00:00:00,5,mg,7.21,7.30,0.1,0.2\n" +
		"1,2125-01-01T20:00:00,6,mg,7.31,7.40,0.3,0.2\n" +
		"1,2125-01-02T00:00:00,6,mg,7.35,7.41,0.3,0.2\n"
	ds, _, err := ReadTable(context.Background(), "body", strings.NewReader(table), ReadOptions{Request: RequestOptions{RowSamples: true}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 0, 2}; !slices.Equal(ds.RowSamples, want) || len(ds.Samples) != 3 {
		t.Errorf("row samples %v of %d samples, want %v of 3", ds.RowSamples, len(ds.Samples), want)
	}
	ds, _, err = ReadTable(context.Background(), "body", strings.NewReader(table), ReadOptions{})
	if err != nil || ds.RowSamples != nil {
		t.Errorf("without the option: %v, %v", ds.RowSamples, err)
	}
}

// TestDrugsIn: how a header gives drugs, as TableKind says it.
func TestDrugsIn(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"subject_id,prescription_drug,pre_ph,post_ph", DrugsNames},
		{"subject_id,P0,P1,pre_ph,post_ph", DrugsPColumns},
		{"subject_id,drug_embedding,pre_ph,post_ph", DrugsEmbedColumn},
	} {
		got, err := DrugsIn(strings.Split(tc.header, ","))
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.header, got, err, tc.want)
		}
	}
	if _, err := DrugsIn([]string{"P0", "P2"}); err == nil {
		t.Error("P0,P2: no error for the gap")
	}
}
