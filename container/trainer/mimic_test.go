package trainer

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline/mimic"
)

// A train channel holding a native MIMIC-IV folder is paired with the hyperparameters
// analytes and *_window_hours; the layout names the analytes and their units and the
// summary carries the per-analyte pairs.
func TestChannelMIMIC(t *testing.T) {
	root := writeTree(t, withHP(nil))
	if _, err := mimic.WriteSynth(filepath.Join(root, "input", "data", "train"), mimic.SynthOptions{Subjects: 30, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	r, _, _ := loadTrain(t, root, map[string]string{"analytes": "Potassium,50983", "pre_window_hours": "12", "post_window_hours": "8"}, "mimic")
	if got := strings.Join(r.layout.Analytes, ","); got != "potassium,sodium" {
		t.Fatalf("analytes %s; want potassium,sodium", got)
	}
	if got := strings.Join(r.layout.Units, ","); got != "mEq/L,mEq/L" {
		t.Fatalf("units %s", got)
	}
	pr := r.summary.Data.Pairs
	if pr == nil || pr.Pairing.PreWindowHours != 12 || pr.Pairing.PostWindowHours != 8 || pr.Analytes[0].Pairs == 0 || pr.Analytes[0].PostHours.Max > 8 {
		t.Fatalf("pairs %+v", pr)
	}
}
