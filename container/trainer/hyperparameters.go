package trainer

import (
	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// Hyperparameters are the validated hyperparameters of a job. Each spec in hparams.Specs
// names the field it sets (Spec.Field); the fields of the embedded structs are promoted,
// so a spec feeds the network's shape (model.Config), its training (model.TrainOptions)
// or the trainer's data handling (DataOptions) directly, with no mapping in between.
type Hyperparameters struct {
	model.Config       // Layout is filled from the data, not from a hyperparameter
	model.TrainOptions // the callbacks and Resume are filled by the run
	DataOptions
}

// DataOptions are the hyperparameters the trainer itself applies to the data.
type DataOptions struct {
	ValidationFraction float64
	TestFraction       float64
	MaxPrescriptions   int
	OverflowPolicy     string
	MaxGapDays         float64
	MaxGapHours        float64
	Folds, Fold        int // cross-validation: test on fold Fold of Folds (0 = off)
	// Pairing turns native MIMIC tables into samples (analytes, windows, pairing).
	pipeline.Pairing
}

// parseHyperparameters validates hyperparameters.json's map against hparams.Specs.
func parseHyperparameters(raw map[string]string) (Hyperparameters, error) {
	var h Hyperparameters
	plain, err := hparams.Parse(raw)
	if err != nil {
		return h, err
	}
	return h, hparams.Decode(plain, &h)
}

// Map returns the hyperparameters as the flat, plain-form map hyperparameters.json holds.
func (h *Hyperparameters) Map() map[string]string { return hparams.Encode(h) }
