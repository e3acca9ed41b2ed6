package trainer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline/mimic"
)

// TestLinearBaseSpecsMatchModel: the hyperparameter specs state the model's own bounds
// (hparams cannot import model: model's tests import hparams).
func TestLinearBaseSpecsMatchModel(t *testing.T) {
	ld, _ := hparams.Lookup("learned_drugs")
	if ld.Max != model.MaxDrugs || !strings.Contains(ld.Doc, "at least "+strconv.Itoa(model.MinDrugSubjects)+" each") {
		t.Errorf("learned_drugs: max %v, doc %q; the model allows %d drugs of %d subjects at least", ld.Max, ld.Doc, model.MaxDrugs, model.MinDrugSubjects)
	}
	lb, _ := hparams.Lookup("linear_base")
	if !slices.Equal(lb.Values, model.LinearBases) {
		t.Errorf("linear_base values %q, the model's %q", lb.Values, model.LinearBases)
	}
	ds, _ := hparams.Lookup("dose_scale_by")
	if !slices.Equal(ds.Values, model.DoseScaleBys) || ds.Default != model.DoseScaleByAll {
		t.Errorf("dose_scale_by values %q (default %s), the model's %q", ds.Values, ds.Default, model.DoseScaleBys)
	}
}

// TestTrainLinearBase: a run with linear_base=ridge and learned drugs on a native MIMIC
// folder saves the drugs it learned with the model, and metrics.json and report.md say
// for which analytes the base stayed.
func TestTrainLinearBase(t *testing.T) {
	root := writeTree(t, withHP(nil))
	if _, err := mimic.WriteSynth(filepath.Join(root, "input", "data", "train"), mimic.SynthOptions{Subjects: 40, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	setHyperparameters(t, root, map[string]string{"epochs": "2", "lstm_units": "4", "encoder_units": "4",
		"linear_base": "ridge", "learned_drugs": "8"})
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	if len(s.LinearBase) != len(s.Data.Analytes) || s.LinearPenalty <= 0 {
		t.Fatalf("metrics.json linear_base %v, penalty %v: want every analyte and the penalty", s.LinearBase, s.LinearPenalty)
	}
	report, err := os.ReadFile(filepath.Join(root, "output", "data", ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), "The linear base (a ridge regression of the change") {
		t.Errorf("report.md does not say where the linear base stayed:\n%.600s", report)
	}
	m, err := model.Load(filepath.Join(root, "model"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := m.Config(); cfg.LinearBase != model.LinearRidge || len(cfg.Drugs) == 0 || len(cfg.Drugs) > 8 {
		t.Fatalf("saved model: linear_base %q, drugs %q: want ridge and 1 to 8 drugs", cfg.LinearBase, cfg.Drugs)
	}
}
