package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareRefusesMixedTables(t *testing.T) {
	dir := t.TempDir()
	ids := "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0\n1,2125-01-01T00:00:00,5,7,7.31,7.40,0.1\n2,2125-01-01T00:00:00,5,7,7.21,7.3,0.1\n"
	noIDs := "prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0\n0.1,3,0.52,0.4,0.2\n0.2,3,0.48,0.6,0.2\n0.2,3,0.48,0.6,0.2\n"
	os.WriteFile(filepath.Join(dir, "final.csv"), []byte(ids), 0o644)
	os.WriteFile(filepath.Join(dir, "scaled.csv"), []byte(noIDs), 0o644)
	h := newHarness(t)
	r := h.run("prepare", "--input", dir, "--output", filepath.Join(t.TempDir(), "out"))
	want := "final.csv and " + filepath.Join(dir, "scaled.csv") + " are different kinds of table: final.csv has subject ids, scaled.csv has none; final.csv holds raw units, scaled.csv values scaled to 0..1; expected tables of one kind (pass --allow-mixed-tables to read them together)"
	if r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Fatalf("err = %v\nwant it to contain %q", r.err, want)
	}
	r = h.run("prepare", "--input", dir, "--output", filepath.Join(t.TempDir(), "out"), "--allow-mixed-tables", "--fractions", "0.6,0.2,0.2")
	if r.err != nil {
		t.Fatalf("--allow-mixed-tables: %v", r.err)
	}
}
