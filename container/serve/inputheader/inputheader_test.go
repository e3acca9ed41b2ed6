package inputheader

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeTable(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	data := []byte(text)
	if filepath.Ext(name) == ".gz" {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriteRead(t *testing.T) {
	data := t.TempDir()
	a := writeTable(t, data, "a.csv", "subject_id,\"pre, ph\",P0\r\n1,2,3\n")
	b := writeTable(t, data, "b.csv.gz", "subject_id,\"pre, ph\",P0\n4,5,6\n")
	other := writeTable(t, data, "c.csv", "subject_id,P0\n1,2\n")
	noNewline := writeTable(t, data, "d.csv", "subject_id,\"pre, ph\",P0")
	empty := writeTable(t, data, "e.csv", "")
	want := []string{"subject_id", "pre, ph", "P0"}
	tests := []struct {
		name   string
		tables []string
		want   []string // nil: nothing stored
	}{
		{"one table", []string{a}, want},
		{"csv and csv.gz agree", []string{a, b}, want},
		{"header only, no newline", []string{noNewline}, want},
		{"headers differ", []string{a, other}, nil},
		{"empty table", []string{empty}, nil},
		{"missing table", []string{filepath.Join(data, "nope.csv")}, nil},
		{"no tables (prepared dataset)", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stored, err := Write(dir, tc.tables)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if stored != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Fatalf("stored %v, read %q; want %q", stored, got, tc.want)
			}
		})
	}
}

func TestWriteFails(t *testing.T) {
	data := t.TempDir()
	a := writeTable(t, data, "a.csv", "x,y\n1,2\n")
	if _, err := Write(filepath.Join(data, "no-such-dir"), []string{a}); err == nil {
		t.Fatal("Write into a missing folder succeeded")
	}
}
