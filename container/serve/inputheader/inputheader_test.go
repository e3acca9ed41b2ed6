package inputheader

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteRead(t *testing.T) {
	want := []string{"subject_id", "pre, ph", "P0"}
	tests := []struct {
		name   string
		header []string
		want   []string // nil: nothing stored
	}{
		{"a header, quoted where needed", want, want},
		{"no shared header (prepared dataset, tables that differ)", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stored, err := Write(dir, tc.header)
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

func TestReadRefusesOverlongLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, File), make([]byte, maxLine+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil {
		t.Fatal("a header line over the limit was read")
	}
}

func TestWriteFails(t *testing.T) {
	if _, err := Write(filepath.Join(t.TempDir(), "no-such-dir"), []string{"x", "y"}); err == nil {
		t.Fatal("Write into a missing folder succeeded")
	}
}
