package mimic

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestTableRoundTrip: the table --table writes is a final table the pipeline's reader
// gives back the same samples from (MIMIC-III groups are dates, as that reader's are),
// with the gap figures of the farthest paired values.
func TestTableRoundTrip(t *testing.T) {
	dir, _ := synthDir(t, SynthOptions{Version: SynthIII, Subjects: 40, Seed: 9})
	table := filepath.Join(t.TempDir(), "pairs.csv.gz")
	opt := pipeline.ReadOptions{Pairing: pipeline.Pairing{Table: table}}
	ds, rep, err := Format{}.Read(context.Background(), []string{dir}, opt)
	if err != nil {
		t.Fatal(err)
	}
	back, brep, err := pipeline.ReadTables(context.Background(), []string{table}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.DiffSamples(ds.Samples, back.Samples); err != nil {
		t.Fatal(err)
	}
	if brep.Prescriptions != rep.Prescriptions || brep.Gaps == nil || brep.Gaps.Groups != len(ds.Samples) {
		t.Fatalf("read back %d prescriptions, gaps %+v; want %d and %d groups with times", brep.Prescriptions, brep.Gaps, rep.Prescriptions, len(ds.Samples))
	}
	if brep.Gaps.Pre.Max > 24 || brep.Gaps.Post.Max > 24 {
		t.Fatalf("gaps read back beyond the windows: %+v", brep.Gaps)
	}
}
