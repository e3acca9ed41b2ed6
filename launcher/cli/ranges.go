package cli

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
)

// axis is one hyperparameter of a grid with its values (validated, plain form).
type axis struct {
	name   string
	values []string
}

// Job limits: a sweep submits at most maxSweepJobs; a Grid tuning job runs at most
// maxGridTuningJobs combinations and the other strategies at most maxTuningJobs (the
// API's MaxNumberOfTrainingJobs bounds; Random allows maxSweepJobs).
const (
	maxSweepJobs      = 10000
	maxGridTuningJobs = 750
	maxTuningJobs     = 750
)

// gridGrows multiplies a grid's size so far by the next axis's values, refusing a size
// over limit as soon as it is reached: the check comes before any expansion, and the
// product never overflows.
func gridGrows(size, values, limit int) (int, bool) {
	if values > limit/size {
		return 0, false
	}
	size *= values
	return size, size <= limit
}

// notSwept refuses grids and ranges over a text hyperparameter: its values hold commas.
func notSwept(flag string, spec hparams.Spec) error {
	if spec.Kind == hparams.Text {
		return usagef("%s: %s takes one value per job (set it with --hp), not a list or range", flag, spec.Name)
	}
	return nil
}

// parseGrid reads "epochs=10,20,50 learning_rate=0.001,0.01" (separated by
// spaces or semicolons; names or kebab aliases) into axes in the given order. A grid of
// more than limit combinations is refused while it is read.
func parseGrid(flag, text string, limit int) ([]axis, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ';' || r == '\t' || r == '\n' })
	if len(fields) == 0 {
		return nil, usagef("%s: empty; expected NAME=V1,V2,... entries separated by spaces", flag)
	}
	var axes []axis
	seen := map[string]bool{}
	size := 1
	for _, f := range fields {
		k, vs, ok := strings.Cut(f, "=")
		if !ok || k == "" || vs == "" {
			return nil, usagef("%s %q: expected NAME=V1,V2,...", flag, f)
		}
		spec, ok := hparams.Lookup(k)
		if !ok {
			return nil, usagef("%s: %v", flag, hparams.UnknownError(k))
		}
		if seen[spec.Name] {
			return nil, usagef("%s: %s appears twice", flag, spec.Name)
		}
		seen[spec.Name] = true
		if err := notSwept(flag, spec); err != nil {
			return nil, err
		}
		a := axis{name: spec.Name}
		dup := map[string]bool{}
		for _, raw := range strings.Split(vs, ",") {
			if raw == "" {
				return nil, usagef("%s %q: empty value in the list", flag, f)
			}
			v, err := spec.Check(raw)
			if err != nil {
				return nil, usagef("%s: %v", flag, err)
			}
			if dup[v] {
				return nil, usagef("%s: %s value %s appears twice", flag, spec.Name, v)
			}
			dup[v] = true
			a.values = append(a.values, v)
		}
		var fits bool
		if size, fits = gridGrows(size, len(a.values), limit); !fits {
			return nil, usagef("%s: more than %d combinations (with %s); at most %d jobs", flag, limit, spec.Name, limit)
		}
		axes = append(axes, a)
	}
	return axes, nil
}

// combinations expands axes into every combination, the first axis varying slowest.
func combinations(axes []axis) []map[string]string {
	out := []map[string]string{{}}
	for _, a := range axes {
		var next []map[string]string
		for _, base := range out {
			for _, v := range a.values {
				m := make(map[string]string, len(base)+1)
				for k, bv := range base {
					m[k] = bv
				}
				m[a.name] = v
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

// Scaling of a numeric range, with the API's names.
const (
	scaleAuto    = "Auto"
	scaleLinear  = "Linear"
	scaleLog     = "Logarithmic"
	scaleRevLog  = "ReverseLogarithmic"
	kindInteger  = "Integer"
	kindFloat    = "Continuous"
	kindCategory = "Categorical"
)

// hpRange is one --range: numeric bounds with a scaling, or categorical values.
type hpRange struct {
	name     string
	kind     string // Integer, Continuous or Categorical
	min, max string // plain-form bounds
	lo, hi   float64
	scaling  string
	values   []string
}

var scaleNames = map[string]string{
	"auto": scaleAuto, "linear": scaleLinear, "log": scaleLog, "logarithmic": scaleLog,
	"reverse-log": scaleRevLog, "reverselogarithmic": scaleRevLog,
}

// parseRange reads "learning_rate=0.0001:0.1:log", "lstm_units=32:128" or
// "architecture=seed,pooled-residual" (categorical).
func parseRange(flag, text string) (hpRange, error) {
	k, spec0, ok := strings.Cut(text, "=")
	if !ok || k == "" || spec0 == "" {
		return hpRange{}, usagef("%s %q: expected NAME=MIN:MAX[:linear|log|reverse-log] or NAME=V1,V2,...", flag, text)
	}
	spec, ok := hparams.Lookup(k)
	if !ok {
		return hpRange{}, usagef("%s: %v", flag, hparams.UnknownError(k))
	}
	if err := notSwept(flag, spec); err != nil {
		return hpRange{}, err
	}
	r := hpRange{name: spec.Name}
	if !strings.Contains(spec0, ":") {
		r.kind = kindCategory
		seen := map[string]bool{}
		for _, raw := range strings.Split(spec0, ",") {
			v, err := spec.Check(raw)
			if err != nil {
				return hpRange{}, usagef("%s: %v", flag, err)
			}
			if seen[v] {
				return hpRange{}, usagef("%s: %s value %s appears twice", flag, spec.Name, v)
			}
			seen[v] = true
			r.values = append(r.values, v)
		}
		if len(r.values) > 30 {
			return hpRange{}, usagef("%s: %s has %d values, at most 30 allowed", flag, spec.Name, len(r.values))
		}
		return r, nil
	}
	if spec.Kind == hparams.Enum || spec.Kind == hparams.Text {
		return hpRange{}, usagef("%s: %s takes a list of values (%s), not MIN:MAX", flag, spec.Name, spec.RangeText())
	}
	parts := strings.Split(spec0, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return hpRange{}, usagef("%s %q: expected NAME=MIN:MAX[:linear|log|reverse-log]", flag, text)
	}
	r.kind = kindFloat
	if spec.Kind == hparams.Int {
		r.kind = kindInteger
	}
	var err error
	if r.min, err = spec.Check(parts[0]); err != nil {
		return hpRange{}, usagef("%s: minimum: %v", flag, err)
	}
	if r.max, err = spec.Check(parts[1]); err != nil {
		return hpRange{}, usagef("%s: maximum: %v", flag, err)
	}
	r.lo, _ = strconv.ParseFloat(r.min, 64)
	r.hi, _ = strconv.ParseFloat(r.max, 64)
	if r.lo >= r.hi {
		return hpRange{}, usagef("%s %q: minimum must be below maximum", flag, text)
	}
	r.scaling = scaleAuto
	if len(parts) == 3 {
		s, ok := scaleNames[strings.ToLower(parts[2])]
		if !ok {
			return hpRange{}, usagef("%s %q: scaling %q, expected linear, log or reverse-log", flag, text, parts[2])
		}
		r.scaling = s
	}
	if r.scaling == scaleLog && r.lo <= 0 {
		return hpRange{}, usagef("%s %q: log scaling needs a minimum above 0", flag, text)
	}
	if r.scaling == scaleRevLog && (r.kind != kindFloat || r.lo < 0 || r.hi >= 1) {
		return hpRange{}, usagef("%s %q: reverse-log scaling needs a float range within [0, 1)", flag, text)
	}
	return r, nil
}

// sample draws one value of r, validated against the spec.
func (r hpRange) sample(rng *rand.Rand) string {
	if r.kind == kindCategory {
		return r.values[rng.IntN(len(r.values))]
	}
	u := rng.Float64()
	var f float64
	switch r.scaling {
	case scaleLog:
		f = math.Exp(math.Log(r.lo) + u*(math.Log(r.hi)-math.Log(r.lo)))
	case scaleRevLog:
		f = 1 - math.Exp(math.Log(1-r.lo)+u*(math.Log(1-r.hi)-math.Log(1-r.lo)))
	default:
		f = r.lo + u*(r.hi-r.lo)
	}
	if r.kind == kindInteger {
		return strconv.Itoa(int(math.Round(f)))
	}
	s := strconv.FormatFloat(f, 'g', 4, 64)
	if spec, ok := hparams.Lookup(r.name); ok {
		if v, err := spec.Check(s); err == nil {
			return v
		}
	}
	return fmt.Sprint(f)
}
