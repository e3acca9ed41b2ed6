package trainer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// TestTrainDefaultRowCap: without max_prescriptions, groups longer than model.DefaultMaxRows
// follow the overflow policy and are counted, as with max_prescriptions: no training batch
// is padded beyond the bound.
func TestTrainDefaultRowCap(t *testing.T) {
	root := copyFixture(t, "basic")
	opt := tinySynth(12, 1)
	opt.MeanPrescriptions = 2 * model.DefaultMaxRows
	var buf bytes.Buffer
	if _, err := pipeline.WriteSynthetic(&buf, opt); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "input/data/train/synthetic.csv"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	setHyperparameters(t, root, map[string]string{"epochs": "1", "lstm_units": "2", "encoder_units": "2", "batch_size": "8"})
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	if s.Data.Truncated == 0 {
		t.Error("truncated_groups is 0: no group was held to the default bound")
	}
	if want := fmt.Sprintf("over %d prescriptions (truncate)", model.DefaultMaxRows); !strings.Contains(res.stderr, want) {
		t.Errorf("log lacks %q:\n%s", want, res.stderr)
	}
}
