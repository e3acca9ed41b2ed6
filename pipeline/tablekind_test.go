package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMixedTableKindsRefused(t *testing.T) {
	const (
		idsRaw    = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n1,2125-01-01T00:00:00,5,7,7.31,7.40,0.1,0.2\n"
		idsRaw2   = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n2,2125-01-01T00:00:00,5,7,7.21,-1.0,0.1,0.2\n"
		noIDsScal = "prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n0.1,3,0.52,-1.0,0.2,0.3\n0.2,3,0.48,1.02,0.2,0.3\n"
		noIDsRaw  = "prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n5,3,7.33,7.38,0.2,0.3\n"
		names     = "subject_id,prescription_start,prescription_drug,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph\n3,2125-01-01T00:00:00,Heparin,5000,UNIT,7.31,7.35\n"
		otherAn   = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_po2,post_po2,P0,P1\n1,2125-01-01T00:00:00,5,7,80,90,0.1,0.2\n"
	)
	tests := []struct {
		name  string
		files map[string]string // sorted by name when read as a folder
		allow bool
		want  string // "" = read
	}{
		{"ids and raw units vs no ids and scaled", map[string]string{"a.csv": idsRaw, "b.csv": noIDsScal}, false,
			"a.csv and b.csv are different kinds of table: a.csv has subject ids, b.csv has none; a.csv holds raw units, b.csv values scaled to 0..1; expected tables of one kind"},
		{"raw vs scaled, both without ids", map[string]string{"a.csv": noIDsRaw, "b.csv": noIDsScal}, false,
			"a.csv and b.csv are different kinds of table: a.csv holds raw units, b.csv values scaled to 0..1; expected"},
		{"drug names vs embeddings", map[string]string{"a.csv": idsRaw, "b.csv": names}, false,
			"a.csv and b.csv are different kinds of table: a.csv has embedding columns P0..Pn, b.csv drug names; expected"},
		{"different analytes", map[string]string{"a.csv": idsRaw, "b.csv": otherAn}, false,
			"b.csv:1:1: analytes [po2] differ from [ph] in "},
		{"same kind", map[string]string{"a.csv": idsRaw, "b.csv": idsRaw2}, false, ""},
		{"mixing allowed explicitly", map[string]string{"a.csv": idsRaw, "b.csv": noIDsScal, "c.csv": names}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := ReadTables(context.Background(), []string{dir}, ReadOptions{AllowMixedKinds: tc.allow, EmbeddingDim: 2})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ReadTables: %v", err)
				}
				return
			}
			msg := ""
			if err != nil {
				msg = strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			}
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", msg, tc.want)
			}
			var mk *MixedTablesError
			if strings.Contains(tc.want, "kinds") && !errors.As(err, &mk) {
				t.Errorf("%v is not a *MixedTablesError", err)
			}
		})
	}
}

// The case: the original project's folder holds four tables of three kinds.
func TestSharedDataKindsNotMerged(t *testing.T) {
	dir := os.Getenv("BLUEBLOOD_SHARED_DATA")
	if dir == "" {
		dir = "../../shared/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "blue-blood-final.csv")); err != nil {
		t.Skipf("original data not found in %s (set BLUEBLOOD_SHARED_DATA)", dir)
	}
	ctx := context.Background()
	_, _, err := ReadTables(ctx, []string{dir}, ReadOptions{})
	want := filepath.Join(dir, "blue-blood-final.csv") + " and " + filepath.Join(dir, "final_data_april22.csv") +
		" are different kinds of table: blue-blood-final.csv has subject ids, final_data_april22.csv has none; blue-blood-final.csv holds raw units, final_data_april22.csv values scaled to 0..1"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v\nwant it to start with %q", err, want)
	}
	_, _, err = ReadTables(ctx, []string{filepath.Join(dir, "blue-blood-final.csv"), filepath.Join(dir, "sample-final-data.csv")}, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "blue-blood-final.csv has embedding columns P0..Pn, sample-final-data.csv drug names") {
		t.Fatalf("final table with the raw excerpt: %v", err)
	}
	// the scaled real table and the CTGAN table share one format
	ds, _, err := ReadTables(ctx, []string{filepath.Join(dir, "final_data_april22.csv"), filepath.Join(dir, "synthetic_data_750.csv")}, ReadOptions{})
	if err != nil || len(ds.Samples) != 2182+750 {
		t.Fatalf("scaled real + CTGAN tables: %v", err)
	}
	if _, _, err := ReadTables(ctx, []string{dir}, ReadOptions{AllowMixedKinds: true}); err != nil {
		t.Fatalf("AllowMixedKinds: %v", err)
	}
}
