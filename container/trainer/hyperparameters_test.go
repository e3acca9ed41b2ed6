package trainer

import (
	"go/build"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// companions are the hyperparameters a name needs beside it (fold means nothing
// without folds and is refused alone).
func companions(name string) map[string]string {
	if name == "fold" {
		return map[string]string{"folds": "100"}
	}
	return map[string]string{}
}

// otherValue returns a valid value of s other than its default, one that Parse accepts
// with every other hyperparameter at its default but its companions.
func otherValue(t *testing.T, s hparams.Spec) string {
	t.Helper()
	cands := s.Values
	if s.Kind != hparams.Enum {
		mid := (s.Min + s.Max) / 2
		if s.Kind == hparams.Int {
			mid = float64(int64(mid))
		}
		for _, f := range []float64{s.Min, s.Max, mid, s.Min + 1, s.Min + 0.01} {
			cands = append(cands, strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	for _, c := range cands {
		raw := companions(s.Name)
		raw[s.Name] = c
		plain, err := hparams.Parse(raw)
		if err == nil && plain[s.Name] != s.Default {
			return plain[s.Name]
		}
	}
	t.Fatalf("%s: no valid value other than the default among %v", s.Name, cands)
	return ""
}

// TestEveryHyperparameterReachesItsOwnField: each spec in hparams.Specs sets exactly one
// field of Hyperparameters (the model's config, its training options or the trainer's
// data options) and nothing else, and Map reads it back. This is the whole mapping
// between hyperparameters.json and what the run uses.
func TestEveryHyperparameterReachesItsOwnField(t *testing.T) {
	fields := map[string]string{}
	for _, s := range hparams.Specs {
		if prev, dup := fields[s.Field]; dup {
			t.Errorf("%s and %s both set field %s", prev, s.Name, s.Field)
		}
		fields[s.Field] = s.Name
		base, err := parseHyperparameters(companions(s.Name))
		if err != nil {
			t.Fatal(err)
		}
		v := otherValue(t, s)
		raw := companions(s.Name)
		raw[s.Name] = v
		h, err := parseHyperparameters(raw)
		if err != nil {
			t.Fatalf("%s=%s: %v", s.Name, v, err)
		}
		got := h.Map()
		want := base.Map()
		want[s.Name] = v
		if !maps.Equal(got, want) {
			t.Errorf("%s=%s: Map() = %v, want %v", s.Name, v, got, want)
		}
		changed := changedFields(reflect.ValueOf(base), reflect.ValueOf(h), "")
		if len(changed) != 1 || changed[0] != s.Field {
			t.Errorf("%s=%s changed fields %v, want only %s", s.Name, v, changed, s.Field)
		}
	}
}

// changedFields lists the leaf fields (by name, promoted through embedded structs) whose
// values differ; function fields are compared by nil-ness.
func changedFields(a, b reflect.Value, _ string) []string {
	var out []string
	for i := 0; i < a.NumField(); i++ {
		sf := a.Type().Field(i)
		fa, fb := a.Field(i), b.Field(i)
		switch {
		case sf.Anonymous && fa.Kind() == reflect.Struct:
			out = append(out, changedFields(fa, fb, "")...)
		case !sf.IsExported():
		case fa.Kind() == reflect.Func || fa.Kind() == reflect.Pointer:
			if fa.IsNil() != fb.IsNil() {
				out = append(out, sf.Name)
			}
		case !reflect.DeepEqual(fa.Interface(), fb.Interface()):
			out = append(out, sf.Name)
		}
	}
	return out
}

// TestDefaultHyperparametersMakeAValidModel: the defaults, with either architecture,
// give a model configuration the model accepts.
func TestDefaultHyperparametersMakeAValidModel(t *testing.T) {
	for _, arch := range []string{model.ArchPooledResidual, model.ArchSeed} {
		h, err := parseHyperparameters(map[string]string{"architecture": arch})
		if err != nil {
			t.Fatal(err)
		}
		cfg := h.Config
		cfg.Layout = pipeline.Layout{Analytes: []string{"a"}, EmbeddingDim: 4, BlockRows: pipeline.DefaultBlockRows}
		cfg.Layout.BlockFeatures = cfg.Layout.RxFeatures()
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", arch, err)
		}
		if cfg.Architecture != arch {
			t.Errorf("architecture %q, want %q", cfg.Architecture, arch)
		}
	}
}

// TestNothingBelowContainerImportsIt: the model and the pipeline stand on their own;
// hyperparameter names stay in container/.
func TestNothingBelowContainerImportsIt(t *testing.T) {
	for _, dir := range []string{"../../model", "../../pipeline", "../../pipeline/s3store"} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, "github.com/blueblood/blueblood/container") {
				t.Errorf("%s imports %s", dir, imp)
			}
		}
	}
}

// specDefault is the declared default of the hyperparameter name.
func specDefault(name string) string {
	s, _ := hparams.Lookup(name)
	return s.Default
}

// Every hyperparameter that shapes the samples (hparams.Spec.Data, the ones launcher
// prepare also takes) reaches the data through the one builder of read options, the row
// limit, or the overflow policy LimitRows applies; a new one wired nowhere fails here.
func TestDataHyperparametersReachTheData(t *testing.T) {
	_, base, err := ParseHyperparameters(nil)
	if err != nil {
		t.Fatal(err)
	}
	layout := pipeline.Layout{BlockRows: pipeline.DefaultBlockRows}
	lim := pipeline.Limits{LineBytes: 1234}
	if got := base.ReadOptions(lim).Limits; got != lim {
		t.Errorf("ReadOptions dropped the limits: %+v", got)
	}
	n := 0
	for _, s := range hparams.Specs {
		if !s.Data {
			continue
		}
		n++
		_, hp, err := ParseHyperparameters(map[string]string{s.Name: otherValue(t, s)})
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(hp.ReadOptions(lim), base.ReadOptions(lim)) && hp.RowLimit(layout) == base.RowLimit(layout) && hp.OverflowPolicy == base.OverflowPolicy {
			t.Errorf("hyperparameter %s=%s changes neither the read options, the row limit nor the overflow policy", s.Name, otherValue(t, s))
		}
	}
	if n < 4 {
		t.Errorf("%d data hyperparameters; expected at least max_prescriptions, overflow_policy, max_gap_days, max_gap_hours", n)
	}
}
