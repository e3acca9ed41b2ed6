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
	Folds, Fold        int    // cross-validation: test on fold Fold of Folds (0 = off)
	MissingCode        string // how tables' -1.0 cells are read (pipeline.ParseMinusOneRule)
	// Pairing turns native MIMIC tables into samples (analytes, windows, pairing).
	pipeline.Pairing
}

// ReadOptions are the options the data hyperparameters read inputs with, within the
// byte and record limits lim. The trainer, launcher prepare and launcher cv read through
// this one builder, so a hyperparameter that shapes the read means the same in each.
func (d DataOptions) ReadOptions(lim pipeline.Limits) pipeline.ReadOptions {
	// the missing_code spec has checked the rule (hparams.Parse), so it parses here
	rule, _ := pipeline.ParseMinusOneRule(d.MissingCode)
	return pipeline.ReadOptions{MaxGapDays: d.MaxGapDays, MaxGapHours: d.MaxGapHours, Limits: lim, MinusOne: rule, Pairing: d.Pairing}
}

// RowLimit is the number of prescription rows a sample keeps: max_prescriptions
// (model.DefaultMaxRows when it is 0), and for the seed architecture at most its block's
// rows (layout.BlockRows; a layout without a block leaves max_prescriptions alone).
func (h *Hyperparameters) RowLimit(layout pipeline.Layout) int {
	limit := h.MaxPrescriptions
	if limit == 0 {
		limit = model.DefaultMaxRows // bounds the rows a training batch is padded to
	}
	if h.Architecture == model.ArchSeed && layout.BlockRows > 0 && limit > layout.BlockRows {
		limit = layout.BlockRows // the seed network's block has a fixed number of rows
	}
	return limit
}

// ParseHyperparameters validates raw against hparams.Specs (defaults filled) and returns
// both the plain-form map and the bound values.
func ParseHyperparameters(raw map[string]string) (map[string]string, Hyperparameters, error) {
	var h Hyperparameters
	plain, err := hparams.Parse(raw)
	if err != nil {
		return nil, h, err
	}
	return plain, h, hparams.Decode(plain, &h)
}

// parseHyperparameters validates hyperparameters.json's map against hparams.Specs.
func parseHyperparameters(raw map[string]string) (Hyperparameters, error) {
	_, h, err := ParseHyperparameters(raw)
	return h, err
}

// Map returns the hyperparameters as the flat, plain-form map hyperparameters.json holds.
func (h *Hyperparameters) Map() map[string]string { return hparams.Encode(h) }
