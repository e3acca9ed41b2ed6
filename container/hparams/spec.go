// Package hparams is the single source of truth for the trainer's hyperparameters:
// their names, kebab-case aliases, types, defaults, allowed ranges, docs and the field
// each one sets.
//
// The trainer validates hyperparameters.json against Specs and binds the values to its
// fields with Decode; the launcher builds its flags, grids, tuning ranges and job-name
// tags from the same list; the README's table is MarkdownTable. The package has no heavy
// imports so the launcher binary does not link the model code.
package hparams

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// Kind is the type of a hyperparameter value.
type Kind int

const (
	Int Kind = iota
	Float
	Enum
	Text // a string Normalize checks; one value per job (no grids or tuning ranges)
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "integer"
	case Float:
		return "float"
	case Text:
		return "text"
	default:
		return "enum"
	}
}

// Spec describes one hyperparameter.
type Spec struct {
	Name    string   // snake_case name, as SageMaker sends it
	Alias   string   // kebab-case alias, also the launcher's flag name; derived from Name
	Field   string   // the struct field Decode sets and Encode reads (see Decode)
	Kind    Kind     // Int, Float or Enum
	Default string   // default value, in the same plain form the launcher sends
	Min     float64  // lower bound (numeric kinds)
	Max     float64  // upper bound (numeric kinds)
	MinOpen bool     // Min itself is not allowed
	MaxOpen bool     // Max itself is not allowed
	Values  []string // allowed values (Enum); for Text, the simplest ones
	// Normalize checks a Text value and returns its plain form; Syntax describes it.
	Normalize func(string) (string, error)
	Syntax    string
	Tunable   bool   // one of the five tunables the launcher exposes as first-class flags
	Data      bool   // shapes the samples (reading, joining, row limits): launcher prepare applies it too, as a flag
	Abbrev    string // short form in generated job names; "" means the initials of Name's words
	Doc       string // one line
}

// Specs lists every hyperparameter the trainer accepts, tunables first. It is the one
// declaration of each: adding a hyperparameter is an entry here plus the field it names.
var Specs = withAliases([]Spec{
	{Name: "epochs", Field: "Epochs", Kind: Int, Default: "100", Min: 1, Max: 100000, Tunable: true, Abbrev: "e",
		Doc: "passes over the training data (early stopping may end sooner)"},
	{Name: "learning_rate", Field: "LearningRate", Kind: Float, Default: "0.002", Min: 0, Max: 1, MinOpen: true, Tunable: true, Abbrev: "lr",
		Doc: "Adam step size"},
	{Name: "lstm_units", Field: "LSTMUnits", Kind: Int, Default: "64", Min: 1, Max: 1024, Tunable: true, Abbrev: "u",
		Doc: "width of the LSTM hidden state"},
	{Name: "dropout_rate", Field: "DropoutRate", Kind: Float, Default: "0.2", Min: 0, Max: 1, MaxOpen: true, Tunable: true, Abbrev: "d",
		Doc: "fraction of LSTM outputs dropped during training (inverted dropout; off at evaluation)"},
	{Name: "batch_size", Field: "BatchSize", Kind: Int, Default: "32", Min: 1, Max: 4096, Tunable: true, Abbrev: "b",
		Doc: "samples per mini-batch (the last partial batch is used too)"},
	{Name: "architecture", Field: "Architecture", Kind: Enum, Default: "pooled-residual", Values: []string{"pooled-residual", "seed"},
		Doc: "pooled-residual: shared prescription encoder + residual head; seed: the original flatten-per-step network"},
	{Name: "linear_base", Field: "LinearBase", Kind: Enum, Default: "none", Values: []string{"ridge", "none"},
		Doc: "pooled-residual: ridge adds a ridge regression of the change (the ridge baseline's features plus learned_drugs), fitted on the training split before the first epoch, kept for the analytes whose validation error it lowers and then fixed, so the network learns what it misses; none: no linear base"},
	{Name: "dose_scale_by", Field: "DoseScaleBy", Kind: Enum, Default: "all", Values: []string{"all", "unit"},
		Doc: "how doses are standardised (of sign(d)·log1p(|d|)): all = one scale for every dose; unit = each unit with at least " + strconv.Itoa(pipeline.MinUnitDoses) + " training doses its own, so a dose reads as high or low for its unit (other units keep the overall scale)"},
	{Name: "learned_drugs", Field: "LearnedDrugs", Kind: Int, Default: "0", Min: 0, Max: 4096,
		Doc: "with linear_base=ridge: the drugs given to the most training subjects (at least 10 each) that get a coefficient of their own per analyte, by name, beside their text embedding; 0 = none"},
	{Name: "encoder_units", Field: "EncoderUnits", Kind: Int, Default: "64", Min: 1, Max: 4096,
		Doc: "output width of the time-distributed layer applied to each input step"},
	{Name: "seed", Field: "Seed", Kind: Int, Default: "42", Min: 0, Max: math.MaxInt32,
		Doc: "seed for weight init, shuffling, dropout and splits; same seed, data and settings give the same model"},
	{Name: "patience", Field: "Patience", Kind: Int, Default: "10", Min: 0, Max: 100000,
		Doc: "epochs without validation-loss improvement before stopping early (0 = never stop early); the best weights are kept"},
	{Name: "clip_norm", Field: "ClipNorm", Kind: Float, Default: "0", Min: 0, Max: 1e6,
		Doc: "clip the global gradient L2 norm to this value (0 = no clipping)"},
	{Name: "weight_decay", Field: "WeightDecay", Kind: Float, Default: "0.003", Min: 0, Max: 1,
		Doc: "L2 weight decay: adds this times each weight to its gradient before the Adam step (biases excluded; 0 = none)"},
	{Name: "validation_fraction", Field: "ValidationFraction", Kind: Float, Default: "0.15", Min: 0, Max: 0.9, MinOpen: true,
		Doc: "share of training subjects held out for validation when there is no validation channel"},
	{Name: "test_fraction", Field: "TestFraction", Kind: Float, Default: "0.15", Min: 0, Max: 0.9,
		Doc: "share of training samples (whole subjects) held out for testing when there is no test channel (0 = none), so the report scores unseen subjects"},
	{Name: "folds", Field: "Folds", Kind: Int, Default: "0", Min: 0, Max: 100,
		Doc: "cross-validation: cut the train channel into this many folds by subject and test on fold number fold (0 = off; as launcher cv does)"},
	{Name: "fold", Field: "Fold", Kind: Int, Default: "1", Min: 1, Max: 100,
		Doc: "with folds > 0, the fold (1-based) held out as the test split"},
	{Name: "max_prescriptions", Field: "MaxPrescriptions", Kind: Int, Default: "0", Min: 0, Max: 100000, Data: true,
		Doc: "prescription rows kept per sample (0 = 256, model.DefaultMaxRows; the seed architecture always uses a 20-row block)"},
	{Name: "overflow_policy", Field: "OverflowPolicy", Kind: Enum, Default: "truncate", Values: []string{"truncate", "split"}, Data: true,
		Doc: "what happens to groups with more prescriptions than the limit: truncate (counted in the report) or split into several samples"},
	{Name: "max_gap_days", Field: "MaxGapDays", Kind: Float, Default: "0", Min: 0, Max: 36500, Data: true,
		Doc: "when joining separate prescription and blood-test tables, the largest gap between a prescription and its tests (0 = no limit)"},
	{Name: "max_gap_hours", Field: "MaxGapHours", Kind: Float, Default: "0", Min: 0, Max: 876000, Data: true,
		Doc: "final tables with pre_charttime/post_charttime: drop groups whose pre or post test lies more than this many hours from the prescription (0 = no limit)"},
	{Name: "missing_code", Field: "MissingCode", Kind: Text, Default: pipeline.MinusOneAuto, Values: pipeline.MinusOneModes, Data: true,
		Normalize: pipeline.NormalizeMinusOneRule, Syntax: "auto, missing or value, for all analytes or per analyte as ANALYTE=MODE items separated by commas",
		Doc: "tables using -1.0 as the missing code: auto decides per analyte (missing where -1.0 is a point mass against the counts of its nearest values, a value where it is as frequent as they are); missing or value force it (e.g. baseexcess=value,glucose=missing)"},
	{Name: "analytes", Field: "Analytes", Kind: Text, Default: pipeline.AnalytesChemistry, Values: []string{pipeline.AnalytesChemistry, pipeline.AnalytesBloodGas}, Data: true,
		Normalize: pipeline.NormalizeAnalytes, Syntax: pipeline.AnalytesSyntax,
		Doc: "native MIMIC tables: the lab values to pair, chemistry, blood-gas or a comma list of itemids or d_labitems labels"},
	{Name: "pre_window_hours", Field: "PreWindowHours", Kind: Float, Default: "24", Min: 0, Max: 8760, Data: true,
		Doc: "native MIMIC tables: the pre value is the latest at most this many hours before the prescriptions' start"},
	{Name: "min_lag_hours", Field: "MinLagHours", Kind: Float, Default: "1", Min: 0, Max: 8760, Data: true,
		Doc: "native MIMIC tables: the post value is the first at least this many hours after the start"},
	{Name: "post_window_hours", Field: "PostWindowHours", Kind: Float, Default: "24", Min: 0, Max: 8760, MinOpen: true, Data: true,
		Doc: "native MIMIC tables: the post value lies at most this many hours after the start"},
	{Name: "pairing", Field: "Mode", Kind: Enum, Default: pipeline.PairingWindows, Values: pipeline.PairingModes, Data: true,
		Doc: "native MIMIC tables: windows (the windows above, one admission) or original (the original final table's rule, MIMIC-III blood gases)"},
	{Name: "checkpoint_every", Field: "CheckpointEvery", Kind: Int, Default: "1", Min: 1, Max: 100000,
		Doc: "write a resumable checkpoint every this many epochs"},
})

// withAliases fills each spec's kebab-case Alias from its Name.
func withAliases(specs []Spec) []Spec {
	for i := range specs {
		specs[i].Alias = strings.ReplaceAll(specs[i].Name, "_", "-")
	}
	return specs
}

// Lookup finds a spec by name or alias.
func Lookup(name string) (Spec, bool) {
	for _, s := range Specs {
		if s.Name == name || s.Alias == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Ignored reports whether a key is set by SageMaker or its SDKs rather than by the user
// (for example _tuning_objective_metric) and must be ignored.
func Ignored(key string) bool {
	return strings.HasPrefix(key, "_") || strings.HasPrefix(key, "sagemaker_")
}

// RangeText describes the allowed values of s, e.g. "(0, 1]" or "one of seed, pooled-residual".
func (s Spec) RangeText() string {
	if s.Kind == Text {
		return s.Syntax
	}
	if s.Kind == Enum {
		return "one of " + strings.Join(s.Values, ", ")
	}
	lo, hi := "[", "]"
	if s.MinOpen {
		lo = "("
	}
	if s.MaxOpen {
		hi = ")"
	}
	return fmt.Sprintf("%s%s, %s%s", lo, formatBound(s.Min), formatBound(s.Max), hi)
}

func formatBound(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Names lists the snake_case names in Specs order.
func Names() []string {
	out := make([]string, len(Specs))
	for i, s := range Specs {
		out[i] = s.Name
	}
	return out
}

// Tunables lists the names of the tunable hyperparameters in Specs order.
func Tunables() []string {
	var out []string
	for _, s := range Specs {
		if s.Tunable {
			out = append(out, s.Name)
		}
	}
	return out
}

// Abbreviation is the short form of s in generated job names.
func (s Spec) Abbreviation() string {
	if s.Abbrev != "" {
		return s.Abbrev
	}
	var ab string
	for _, w := range strings.Split(s.Name, "_") {
		ab += w[:1]
	}
	return ab
}

// Check validates one value for s and returns it normalised to its plain form
// ("20", "0.001", "seed"). It accepts the encodings SageMaker clients produce:
// plain strings, JSON-encoded strings ("\"0.001\"") and integral floats for integers ("20.0").
func (s Spec) Check(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	var unquoted string
	if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &unquoted) == nil {
		v = strings.TrimSpace(unquoted)
	}
	switch s.Kind {
	case Text:
		plain, err := s.Normalize(v)
		if err != nil {
			return "", fmt.Errorf("hyperparameter %s=%q: %v", s.Name, raw, err)
		}
		return plain, nil
	case Enum:
		for _, allowed := range s.Values {
			if v == allowed {
				return v, nil
			}
		}
		return "", fmt.Errorf("hyperparameter %s=%q: expected %s", s.Name, raw, s.RangeText())
	case Int:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
			return "", fmt.Errorf("hyperparameter %s=%q: expected an integer in %s", s.Name, raw, s.RangeText())
		}
		if !s.inRange(f) {
			return "", fmt.Errorf("hyperparameter %s=%s: out of range, expected an integer in %s", s.Name, v, s.RangeText())
		}
		return strconv.FormatInt(int64(f), 10), nil
	default:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("hyperparameter %s=%q: expected a number in %s", s.Name, raw, s.RangeText())
		}
		if !s.inRange(f) {
			return "", fmt.Errorf("hyperparameter %s=%s: out of range, expected a number in %s", s.Name, v, s.RangeText())
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	}
}

func (s Spec) inRange(f float64) bool {
	if f < s.Min || (s.MinOpen && f == s.Min) {
		return false
	}
	if f > s.Max || (s.MaxOpen && f == s.Max) {
		return false
	}
	return true
}

// MarkdownTable renders Specs as the README's hyperparameter table; a test keeps the
// README in step with it.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| name (alias) | type | default | allowed | what it does |\n|---|---|---|---|---|\n")
	for _, s := range Specs {
		name := "`" + s.Name + "`"
		if s.Alias != s.Name {
			name += " (`" + s.Alias + "`)"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", name, s.Kind, s.Default, s.RangeText(), s.Doc)
	}
	return b.String()
}
