package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// Architecture names accepted in Config.Architecture.
const (
	ArchPooledResidual = "pooled-residual"
	ArchSeed           = "seed"
)

// Linear bases accepted in Config.LinearBase.
const (
	LinearRidge = "ridge"
	LinearNone  = "none"
)

// LinearBases lists them (for the hyperparameter's spec).
var LinearBases = []string{LinearRidge, LinearNone}

// Dose scales accepted in Config.DoseScaleBy.
const (
	DoseScaleByAll  = "all"
	DoseScaleByUnit = "unit"
)

// DoseScaleBys lists them (for the hyperparameter's spec).
var DoseScaleBys = []string{DoseScaleByAll, DoseScaleByUnit}

// Config selects and sizes the network. It is saved with the model.
type Config struct {
	Architecture string          `json:"architecture"` // "pooled-residual" (default) or "seed"
	LSTMUnits    int             `json:"lstm_units"`
	EncoderUnits int             `json:"encoder_units"`
	DropoutRate  float64         `json:"dropout_rate"`
	Layout       pipeline.Layout `json:"layout"`
	// LinearBase adds a linear base to the pooled-residual network's output: a ridge
	// regression of the change on the ridge baseline's features (and the learned drugs'
	// row counts), fitted in closed form on the training split when training starts,
	// kept for the analytes whose validation error it lowers, and fixed after that, so
	// the network learns only what the linear fit misses.
	LinearBase string `json:"linear_base,omitempty"` // LinearRidge or LinearNone ("" = none)
	// LearnedDrugs is how many of the training data's most frequent drugs get an effect of
	// their own in the linear base (DrugVocabulary fills Drugs with them); 0: none.
	LearnedDrugs int `json:"learned_drugs,omitempty"`
	// Drugs names those drugs as Sample.Drugs names a row's drug: each row of one adds the
	// drug's coefficients to the predicted change, so a frequent drug's effect needs no
	// detour through its name's text embedding. Filled from the training data.
	Drugs []string `json:"drugs,omitempty"`
	// DoseScaleBy is how FitScaler scales doses: DoseScaleByAll (one log-dose scale for every
	// dose; "" too) or DoseScaleByUnit (each frequent unit its own, pipeline.FitUnitDoses).
	DoseScaleBy string `json:"dose_scale_by,omitempty"`

	// ablation flips the residual head relative to the architecture's default (pooled:
	// on, seed: off); used only by the results table's ablation rows, never saved
	ablation bool
}

// linear reports whether the network has the linear base.
func (c Config) linear() bool { return c.LinearBase == LinearRidge }

// residual reports whether the network adds the pre value to its output.
func (c Config) residual() bool { return (c.Architecture != ArchSeed) != c.ablation }

// maxUnits bounds the layer widths; the hyperparameter specs allow less, this only stops
// absurd allocations from a hand-written config.
const maxUnits = 1 << 14

// withDefaults fills the zero values that have an obvious default.
func (c Config) withDefaults() Config {
	if c.Architecture == "" {
		c.Architecture = ArchPooledResidual
	}
	return c
}

// Validate reports the first problem with c, naming the field and the expectation.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch c.Architecture {
	case ArchPooledResidual, ArchSeed:
	default:
		return fmt.Errorf("model config: architecture %q: expected %q or %q", c.Architecture, ArchPooledResidual, ArchSeed)
	}
	if c.LSTMUnits < 1 || c.LSTMUnits > maxUnits {
		return fmt.Errorf("model config: lstm_units=%d: expected an integer in [1, %d]", c.LSTMUnits, maxUnits)
	}
	if c.EncoderUnits < 1 || c.EncoderUnits > maxUnits {
		return fmt.Errorf("model config: encoder_units=%d: expected an integer in [1, %d]", c.EncoderUnits, maxUnits)
	}
	if math.IsNaN(c.DropoutRate) || c.DropoutRate < 0 || c.DropoutRate >= 1 {
		return fmt.Errorf("model config: dropout_rate=%v: expected a number in [0, 1)", c.DropoutRate)
	}
	if c.LearnedDrugs < 0 || c.LearnedDrugs > MaxDrugs {
		return fmt.Errorf("model config: learned_drugs=%d: expected an integer in [0, %d]", c.LearnedDrugs, MaxDrugs)
	}
	switch {
	case c.LinearBase != "" && !slices.Contains(LinearBases, c.LinearBase):
		return fmt.Errorf("model config: linear_base %q: expected one of %s", c.LinearBase, strings.Join(LinearBases, ", "))
	case c.linear() && c.Architecture == ArchSeed:
		return errors.New("model config: linear_base: the seed architecture has no linear base (use none)")
	case c.DoseScaleBy != "" && !slices.Contains(DoseScaleBys, c.DoseScaleBy):
		return fmt.Errorf("model config: dose_scale_by %q: expected one of %s", c.DoseScaleBy, strings.Join(DoseScaleBys, ", "))
	}
	if err := validateDrugs(c.Drugs, c.linear()); err != nil {
		return err
	}
	return validateLayout(c.Layout, c.Architecture)
}

func validateLayout(l pipeline.Layout, arch string) error {
	a := len(l.Analytes)
	if a == 0 {
		return errors.New("model config: layout has no analytes")
	}
	if l.EmbeddingDim < 1 {
		return fmt.Errorf("model config: layout embedding_dim=%d: expected at least 1", l.EmbeddingDim)
	}
	if arch == ArchSeed {
		if l.BlockRows < 2 || l.BlockFeatures < 1 {
			return fmt.Errorf("model config: layout block %dx%d: the seed architecture needs at least 2 block rows and 1 feature", l.BlockRows, l.BlockFeatures)
		}
		if 2*seedPreRows(l) > l.BlockRows {
			return fmt.Errorf("model config: layout has %d analytes but the seed block is %dx%d: pre values and their flags need %d rows", a, l.BlockRows, l.BlockFeatures, 2*seedPreRows(l))
		}
		if l.RxFeatures() > l.BlockFeatures {
			return fmt.Errorf("model config: layout prescription row width %d exceeds block_features=%d", l.RxFeatures(), l.BlockFeatures)
		}
		if l.BlockRows*l.BlockFeatures > 1<<22 {
			return fmt.Errorf("model config: layout block %dx%d is too large", l.BlockRows, l.BlockFeatures)
		}
	}
	return nil
}

// seedPreRows is the number of block rows the pre values take in the seed's step-0 block
// (1 when analytes <= block_features); their observed flags take as many rows after them.
func seedPreRows(l pipeline.Layout) int {
	return (len(l.Analytes) + l.BlockFeatures - 1) / l.BlockFeatures
}

// paramSpec names one weight tensor and its shape inside the flat parameter buffer.
type paramSpec struct {
	Name   string `json:"name"`
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
	Off    int    `json:"offset"`
	fanIn  int    // Glorot initialisation bounds
	fanOut int
	bias   bool
	frozen bool // set when training starts (the linear base), never by the optimiser
}

func (p paramSpec) size() int { return p.Rows * p.Cols }

// paramSpecs lists the weight tensors of cfg in the order they are stored. Dense weights
// are [in, out] with a [1, out] bias. The LSTM's are gate-major: lstm_wx is four [E, U]
// blocks (gates i, f, g, o) stacked into [4E, U], lstm_wh four [U, U] blocks, lstm_b four
// [1, U] rows, so every gate is a contiguous matrix of its own in the graph.
func paramSpecs(cfg Config) []paramSpec {
	l := cfg.Layout
	a := len(l.Analytes)
	e, u := cfg.EncoderUnits, cfg.LSTMUnits
	var ps []paramSpec
	add := func(name string, rows, cols int, bias bool) {
		ps = append(ps, paramSpec{Name: name, Rows: rows, Cols: cols, fanIn: rows, fanOut: cols, bias: bias})
	}
	if cfg.Architecture == ArchSeed {
		f := l.BlockRows * l.BlockFeatures
		add("td_w", f, e, false)
		add("td_b", 1, e, true)
		add("lstm_wx", 4*e, u, false)
		add("lstm_wh", 4*u, u, false)
		add("lstm_b", 4, u, true)
		add("out_w", u, f, false)
		add("out_b", 1, f, true)
	} else {
		add("pre_w", 2*a, e, false)
		add("pre_b", 1, e, true)
		add("rx_w", l.RxFeatures(), e, false)
		add("rx_b", 1, e, true)
		add("rx_dose_w", l.EmbeddingDim, e, false)
		add("lstm_wx", 4*e, u, false)
		add("lstm_wh", 4*u, u, false)
		add("lstm_b", 4, u, true)
		add("out_w", u, a, false)
		add("out_b", 1, a, true)
		if cfg.linear() {
			// last, so a model without it keeps its offsets; the intercept is its last row
			add("lin_w", ridgeWidth(l, len(cfg.Drugs))+1, a, false)
			ps[len(ps)-1].frozen = true
		}
	}
	for i := range ps {
		switch ps[i].Name {
		case "lstm_wx":
			ps[i].fanIn, ps[i].fanOut = e, 4*u
		case "lstm_wh":
			ps[i].fanIn, ps[i].fanOut = u, 4*u
		}
	}
	off := 0
	for i := range ps {
		ps[i].Off = off
		off += ps[i].size()
	}
	return ps
}

func paramCount(ps []paramSpec) int {
	last := ps[len(ps)-1]
	return last.Off + last.size()
}

// FitScaler fits the scaler cfg asks for on the training samples: the trainer and
// cross-validation scale data through this one function.
func FitScaler(cfg Config, train []pipeline.Sample) (*pipeline.Scaler, error) {
	sc, err := pipeline.FitScaler(train, cfg.Layout)
	if err != nil {
		return nil, err
	}
	if cfg.DoseScaleBy == DoseScaleByUnit {
		sc.FitUnitDoses(train)
	}
	return sc, nil
}
