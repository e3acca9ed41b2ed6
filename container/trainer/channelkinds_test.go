package trainer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A validation channel of another kind than train (scaled 0..1 without ids against raw
// units with ids) would be scored silently on another scale; it fails the job.
func TestTrainRefusesChannelsOfDifferentKinds(t *testing.T) {
	root := writeTree(t, withHP(map[string]string{
		"input/data/train/final.csv": "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0\n" +
			"1,2125-01-01T00:00:00,5,7,7.31,7.40,0.1\n2,2125-01-01T00:00:00,5,7,7.21,7.3,0.1\n",
		"input/data/validation/scaled.csv": "prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0\n0.1,3,0.52,0.4,0.2\n",
	}))
	err := Train(context.Background(), Options{Root: root, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if err == nil {
		t.Fatal("Train succeeded")
	}
	got, _ := os.ReadFile(filepath.Join(root, "output", "failure"))
	want := "channel validation: " + filepath.Join(root, "input/data/train/final.csv") + " and " + filepath.Join(root, "input/data/validation/scaled.csv") +
		" are different kinds of table: final.csv has subject ids, scaled.csv has none; final.csv holds raw units, scaled.csv values scaled to 0..1"
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("failure %q\nwant it to start with %q", got, want)
	}
}
