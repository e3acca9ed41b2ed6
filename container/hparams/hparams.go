// Package hparams is the single source of truth for the trainer's hyperparameters:
// their names, kebab-case aliases, types, defaults, allowed ranges and docs.
//
// The trainer validates hyperparameters.json against Specs; the launcher builds its
// flags, grids and tuning ranges from the same list. The package has no heavy imports
// so the launcher binary does not link the model code.
package hparams

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is the type of a hyperparameter value.
type Kind int

const (
	Int Kind = iota
	Float
	Enum
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "integer"
	case Float:
		return "float"
	default:
		return "enum"
	}
}

// Spec describes one hyperparameter.
type Spec struct {
	Name    string   // snake_case name, as SageMaker sends it
	Alias   string   // kebab-case alias, also the launcher's flag name
	Kind    Kind     // Int, Float or Enum
	Default string   // default value, in the same plain form the launcher sends
	Min     float64  // lower bound (numeric kinds)
	Max     float64  // upper bound (numeric kinds)
	MinOpen bool     // Min itself is not allowed
	MaxOpen bool     // Max itself is not allowed
	Values  []string // allowed values (Enum)
	Tunable bool     // one of the five tunables the launcher exposes as first-class flags
	Doc     string   // one line
}

// Specs lists every hyperparameter the trainer accepts, tunables first.
var Specs = []Spec{
	{Name: "epochs", Alias: "epochs", Kind: Int, Default: "40", Min: 1, Max: 100000, Tunable: true,
		Doc: "passes over the training data (early stopping may end sooner)"},
	{Name: "learning_rate", Alias: "learning-rate", Kind: Float, Default: "0.001", Min: 0, Max: 1, MinOpen: true, Tunable: true,
		Doc: "Adam step size"},
	{Name: "lstm_units", Alias: "lstm-units", Kind: Int, Default: "64", Min: 1, Max: 1024, Tunable: true,
		Doc: "width of the LSTM hidden state"},
	{Name: "dropout_rate", Alias: "dropout-rate", Kind: Float, Default: "0.2", Min: 0, Max: 1, MaxOpen: true, Tunable: true,
		Doc: "fraction of LSTM outputs dropped during training (inverted dropout; off at evaluation)"},
	{Name: "batch_size", Alias: "batch-size", Kind: Int, Default: "32", Min: 1, Max: 4096, Tunable: true,
		Doc: "samples per mini-batch (the last partial batch is used too)"},
	{Name: "architecture", Alias: "architecture", Kind: Enum, Default: "pooled-residual", Values: []string{"pooled-residual", "seed"},
		Doc: "pooled-residual: shared prescription encoder + residual head; seed: the original flatten-per-step network"},
	{Name: "encoder_units", Alias: "encoder-units", Kind: Int, Default: "64", Min: 1, Max: 4096,
		Doc: "output width of the time-distributed layer applied to each input step"},
	{Name: "seed", Alias: "seed", Kind: Int, Default: "42", Min: 0, Max: math.MaxInt32,
		Doc: "seed for weight init, shuffling, dropout and splits; same seed, data and settings give the same model"},
	{Name: "patience", Alias: "patience", Kind: Int, Default: "10", Min: 0, Max: 100000,
		Doc: "epochs without validation-loss improvement before stopping early (0 = never stop early); the best weights are kept"},
	{Name: "clip_norm", Alias: "clip-norm", Kind: Float, Default: "0", Min: 0, Max: 1e6,
		Doc: "clip the global gradient L2 norm to this value (0 = no clipping)"},
	{Name: "weight_decay", Alias: "weight-decay", Kind: Float, Default: "0.003", Min: 0, Max: 1,
		Doc: "L2 weight decay: adds this times each weight to its gradient before the Adam step (biases excluded; 0 = none)"},
	{Name: "validation_fraction", Alias: "validation-fraction", Kind: Float, Default: "0.15", Min: 0, Max: 0.9, MinOpen: true,
		Doc: "share of training subjects held out for validation when there is no validation channel"},
	{Name: "test_fraction", Alias: "test-fraction", Kind: Float, Default: "0", Min: 0, Max: 0.9,
		Doc: "share of training subjects held out for testing when there is no test channel (0 = none)"},
	{Name: "max_prescriptions", Alias: "max-prescriptions", Kind: Int, Default: "0", Min: 0, Max: 100000,
		Doc: "prescription rows kept per sample (0 = no limit; the seed architecture always uses a 20-row block)"},
	{Name: "overflow_policy", Alias: "overflow-policy", Kind: Enum, Default: "truncate", Values: []string{"truncate", "split"},
		Doc: "what happens to groups with more prescriptions than the limit: truncate (counted in the report) or split into several samples"},
	{Name: "max_gap_days", Alias: "max-gap-days", Kind: Float, Default: "0", Min: 0, Max: 36500,
		Doc: "when joining separate prescription and blood-test tables, the largest gap between a prescription and its tests (0 = no limit)"},
	{Name: "checkpoint_every", Alias: "checkpoint-every", Kind: Int, Default: "1", Min: 1, Max: 100000,
		Doc: "write a resumable checkpoint every this many epochs"},
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

// Values holds a validated, complete set of hyperparameters.
type Values struct {
	Epochs             int
	LearningRate       float64
	LSTMUnits          int
	DropoutRate        float64
	BatchSize          int
	Architecture       string
	EncoderUnits       int
	Seed               int64
	Patience           int
	ClipNorm           float64
	WeightDecay        float64
	ValidationFraction float64
	TestFraction       float64
	MaxPrescriptions   int
	OverflowPolicy     string
	MaxGapDays         float64
	CheckpointEvery    int
}

// Defaults returns the default values.
func Defaults() Values {
	v, err := Parse(nil)
	if err != nil {
		panic("hparams: defaults do not validate: " + err.Error()) // programmer error
	}
	return v
}

// Parse validates a hyperparameters.json map (string to string) and fills defaults.
// Keys may use the snake_case name or the kebab-case alias. SageMaker's own keys
// (leading "_" or "sagemaker_") are ignored; any other unknown key is an error that
// names the closest known hyperparameter.
func Parse(raw map[string]string) (Values, error) {
	plain := map[string]string{}
	for _, s := range Specs {
		plain[s.Name] = s.Default
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error for several bad keys
	seen := map[string]string{}
	for _, k := range keys {
		if Ignored(k) {
			continue
		}
		s, ok := Lookup(k)
		if !ok {
			return Values{}, UnknownError(k)
		}
		if prev, dup := seen[s.Name]; dup {
			return Values{}, fmt.Errorf("hyperparameter %s given twice (as %s and %s)", s.Name, prev, k)
		}
		seen[s.Name] = k
		v, err := s.Check(raw[k])
		if err != nil {
			return Values{}, err
		}
		plain[s.Name] = v
	}
	return fromPlain(plain)
}

// UnknownError is the error for a key that is not a hyperparameter.
func UnknownError(key string) error {
	if near := Closest(key); near != "" {
		return fmt.Errorf("unknown hyperparameter %s; did you mean %s?", key, near)
	}
	return fmt.Errorf("unknown hyperparameter %s; known: %s", key, strings.Join(Names(), ", "))
}

// Names lists the snake_case names in Specs order.
func Names() []string {
	out := make([]string, len(Specs))
	for i, s := range Specs {
		out[i] = s.Name
	}
	return out
}

// Closest returns the known name nearest to key by edit distance, or "" if none is close.
func Closest(key string) string {
	return Nearest(strings.ToLower(strings.ReplaceAll(key, "-", "_")), Names())
}

// Nearest returns the candidate nearest to key by edit distance, or "" if none is close
// enough to be a likely misspelling. The launcher uses it for its flag names too.
func Nearest(key string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(key, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist > max(2, len(key)/3) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func fromPlain(p map[string]string) (Values, error) {
	var v Values
	var err error
	atoi := func(name string) int {
		n, e := strconv.Atoi(p[name])
		if e != nil && err == nil {
			err = fmt.Errorf("hyperparameter %s=%q: expected an integer", name, p[name])
		}
		return n
	}
	atof := func(name string) float64 {
		f, e := strconv.ParseFloat(p[name], 64)
		if e != nil && err == nil {
			err = fmt.Errorf("hyperparameter %s=%q: expected a number", name, p[name])
		}
		return f
	}
	v.Epochs = atoi("epochs")
	v.LearningRate = atof("learning_rate")
	v.LSTMUnits = atoi("lstm_units")
	v.DropoutRate = atof("dropout_rate")
	v.BatchSize = atoi("batch_size")
	v.Architecture = p["architecture"]
	v.EncoderUnits = atoi("encoder_units")
	v.Seed = int64(atoi("seed"))
	v.Patience = atoi("patience")
	v.ClipNorm = atof("clip_norm")
	v.WeightDecay = atof("weight_decay")
	v.ValidationFraction = atof("validation_fraction")
	v.TestFraction = atof("test_fraction")
	v.MaxPrescriptions = atoi("max_prescriptions")
	v.OverflowPolicy = p["overflow_policy"]
	v.MaxGapDays = atof("max_gap_days")
	v.CheckpointEvery = atoi("checkpoint_every")
	if err == nil && v.ValidationFraction+v.TestFraction >= 1 {
		err = fmt.Errorf("hyperparameters validation_fraction=%g and test_fraction=%g: their sum must be below 1", v.ValidationFraction, v.TestFraction)
	}
	return v, err
}

// Map returns v as the flat string map hyperparameters.json holds, in plain form.
func (v Values) Map() map[string]string {
	return map[string]string{
		"epochs":              strconv.Itoa(v.Epochs),
		"learning_rate":       strconv.FormatFloat(v.LearningRate, 'g', -1, 64),
		"lstm_units":          strconv.Itoa(v.LSTMUnits),
		"dropout_rate":        strconv.FormatFloat(v.DropoutRate, 'g', -1, 64),
		"batch_size":          strconv.Itoa(v.BatchSize),
		"architecture":        v.Architecture,
		"encoder_units":       strconv.Itoa(v.EncoderUnits),
		"seed":                strconv.FormatInt(v.Seed, 10),
		"patience":            strconv.Itoa(v.Patience),
		"clip_norm":           strconv.FormatFloat(v.ClipNorm, 'g', -1, 64),
		"weight_decay":        strconv.FormatFloat(v.WeightDecay, 'g', -1, 64),
		"validation_fraction": strconv.FormatFloat(v.ValidationFraction, 'g', -1, 64),
		"test_fraction":       strconv.FormatFloat(v.TestFraction, 'g', -1, 64),
		"max_prescriptions":   strconv.Itoa(v.MaxPrescriptions),
		"overflow_policy":     v.OverflowPolicy,
		"max_gap_days":        strconv.FormatFloat(v.MaxGapDays, 'g', -1, 64),
		"checkpoint_every":    strconv.Itoa(v.CheckpointEvery),
	}
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
