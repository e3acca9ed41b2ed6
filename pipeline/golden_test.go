package pipeline

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline/golden"
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
			golden.Check(t, strings.TrimSuffix(in, ".csv")+".report.golden", got.Bytes())
		})
	}
}
