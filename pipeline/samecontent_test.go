package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// W2: one table read twice (the same path twice, or plain beside gzip) is
// refused naming both, instead of doubling every row.
func TestSameTableTwiceRefused(t *testing.T) {
	table, err := os.ReadFile("testdata/final_small.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "table.csv"), table, 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(table)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "table.csv.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, inputs := range [][]string{
		{"testdata/final_small.csv", "testdata/final_small.csv"},
		{dir},
	} {
		_, _, err := ReadTables(context.Background(), inputs, ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), "same content as") || !strings.Contains(err.Error(), "give each table once") {
			t.Errorf("%v: err = %v", inputs, err)
		}
	}
	// Different tables still read together.
	if _, _, err := ReadTables(context.Background(), []string{filepath.Join(dir, "table.csv")}, ReadOptions{}); err != nil {
		t.Errorf("one table: %v", err)
	}
}
