package trainer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestChannelsShareTheMissingCodeDecision: the train channel's base excess has negative
// values, so its -1.0 is a value; the validation channel, whose base excess is only ever
// -1.0, must read it the same way (as a value), not decide from its own rows that -1 is
// missing there.
func TestChannelsShareTheMissingCodeDecision(t *testing.T) {
	root := copyFixture(t, "basic")
	const header = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,pre_baseexcess,post_ph,post_baseexcess,P0,P1\n"
	train := header
	for i := range 12 {
		train += fmt.Sprintf("t%d,2125-10-05T00:00:00,%d,mg,7.3%d,%d,7.3%d,%d,0.%d,0.5\n", i, i+1, i%10, i%5-3, (i+1)%10, i%4-2, i)
	}
	val := header
	for i := range 3 {
		val += fmt.Sprintf("v%d,2125-10-05T00:00:00,1,mg,7.3%d,-1.0,7.35,-1.0,0.1,0.2\n", i, i)
	}
	os.Remove(filepath.Join(root, "input", "data", "train", "synthetic.csv"))
	for path, text := range map[string]string{"train/t.csv": train, "validation/v.csv": val} {
		p := filepath.Join(root, "input", "data", filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "input", "config", "inputdataconfig.json"),
		[]byte(`{"train": {"TrainingInputMode": "File"}, "validation": {"TrainingInputMode": "File"}}`), 0o644)
	setHyperparameters(t, root, map[string]string{"epochs": "1", "lstm_units": "2", "encoder_units": "2", "test_fraction": "0"})
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	// 3 samples, ph and base excess observed after treatment
	if got := s.Data.Validation.Targets; got != 6 {
		t.Fatalf("validation has %d observed targets, want 6 (base excess -1.0 read as a value, as in train)", got)
	}
}
