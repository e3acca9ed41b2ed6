package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportTextGolden pins the human-readable read report; regenerate with -update.
func TestReportTextGolden(t *testing.T) {
	for _, in := range []string{"testdata/final_small.csv", "testdata/raw_small.csv"} {
		t.Run(filepath.Base(in), func(t *testing.T) {
			_, rep, err := ReadTables(context.Background(), []string{in}, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := rep.WriteText(&got); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".csv") + ".report.golden"
			if *update {
				if err := writeFileAtomic(golden, got.Bytes()); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (regenerate with -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("report differs from %s:\n%s", golden, got.String())
			}
		})
	}
}
