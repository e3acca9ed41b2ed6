package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
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
