package hparams

import (
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline/golden"
)

func TestParseDefaults(t *testing.T) {
	plain, err := Parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != len(Specs) {
		t.Fatalf("Parse gave %d values for %d specs", len(plain), len(Specs))
	}
	for _, s := range Specs {
		if plain[s.Name] != s.Default {
			t.Errorf("%s = %q, want the default %q", s.Name, plain[s.Name], s.Default)
		}
	}
}

func TestParseEncodings(t *testing.T) {
	tests := []struct {
		name      string
		raw       map[string]string
		key, want string // want is the plain value of key
	}{
		{"plain", map[string]string{"learning_rate": "0.01"}, "learning_rate", "0.01"},
		{"json string", map[string]string{"learning_rate": `"0.01"`}, "learning_rate", "0.01"},
		{"bare tuning float", map[string]string{"learning_rate": "0.01390030725982051"}, "learning_rate", "0.01390030725982051"},
		{"integral float for int", map[string]string{"epochs": "20.0"}, "epochs", "20"},
		{"json int string", map[string]string{"lstm_units": `"128"`}, "lstm_units", "128"},
		{"kebab alias", map[string]string{"batch-size": "8"}, "batch_size", "8"},
		{"weight decay", map[string]string{"weight_decay": "0.003"}, "weight_decay", "0.003"},
		{"weight decay alias", map[string]string{"weight-decay": `"0.01"`}, "weight_decay", "0.01"},
		{"enum", map[string]string{"architecture": `"seed"`}, "architecture", "seed"},
		{"ignored sagemaker keys", map[string]string{"_tuning_objective_metric": "validation:rmse", "sagemaker_program": "x"}, "epochs", defaultOf("epochs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if plain[tt.key] != tt.want {
				t.Fatalf("%s = %q, want %q", tt.key, plain[tt.key], tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		raw  map[string]string
		want string
	}{
		{map[string]string{"lerning_rate": "0.1"}, "unknown hyperparameter lerning_rate; did you mean learning_rate?"},
		{map[string]string{"LSTM-Units": "3"}, "unknown hyperparameter LSTM-Units; did you mean lstm_units?"},
		{map[string]string{"colour": "blue"}, "unknown hyperparameter colour; known: epochs"},
		{map[string]string{"dropout_rate": "1"}, "dropout_rate=1: out of range, expected a number in [0, 1)"},
		{map[string]string{"learning_rate": "0"}, "learning_rate=0: out of range, expected a number in (0, 1]"},
		{map[string]string{"batch_size": "0"}, "batch_size=0: out of range, expected an integer in [1, 4096]"},
		{map[string]string{"weight_decay": "-0.1"}, "weight_decay=-0.1: out of range, expected a number in [0, 1]"},
		{map[string]string{"weight-decay": "1.5"}, "weight_decay=1.5: out of range, expected a number in [0, 1]"},
		{map[string]string{"weight_decay": "NaN"}, `weight_decay="NaN": expected a number`},
		{map[string]string{"epochs": "2.5"}, `epochs="2.5": expected an integer`},
		{map[string]string{"epochs": "NaN"}, `epochs="NaN": expected an integer`},
		{map[string]string{"learning_rate": "fast"}, `learning_rate="fast": expected a number`},
		{map[string]string{"architecture": "cnn"}, "expected one of pooled-residual, seed"},
		{map[string]string{"epochs": "3", "Epochs": "4"}, "unknown hyperparameter Epochs; did you mean epochs?"},
		{map[string]string{"batch_size": "3", "batch-size": "4"}, "hyperparameter batch_size given twice"},
		{map[string]string{"validation_fraction": "0.6", "test_fraction": "0.5"}, "their sum must be below 1"},
		// W11: fold alone would be ignored (the ordinary split trains)
		{map[string]string{"fold": "2"}, "hyperparameter fold=2 without folds: cross-validation is off"},
		{map[string]string{"fold": "1", "folds": "0"}, "hyperparameter fold=1 without folds"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%v) error = %v, want it to contain %q", tt.raw, err, tt.want)
		}
	}
}

// target stands for the structs the trainer decodes into: fields of every kind, one of
// them promoted from an embedded struct.
type target struct {
	embedded
	Rate  float64
	Small int32
	Name  string
}

type embedded struct{ Count int64 }

var targetSpecs = []Spec{
	{Name: "count", Field: "Count", Kind: Int},
	{Name: "rate", Field: "Rate", Kind: Float},
	{Name: "small", Field: "Small", Kind: Int},
	{Name: "name", Field: "Name", Kind: Enum},
}

func TestDecodeEncodeRoundTrip(t *testing.T) {
	plain := map[string]string{"count": "7", "rate": "0.0123", "small": "-3", "name": "seed"}
	var v target
	if err := decode(targetSpecs, plain, &v); err != nil {
		t.Fatal(err)
	}
	if v.Count != 7 || v.Rate != 0.0123 || v.Small != -3 || v.Name != "seed" {
		t.Fatalf("decoded %+v", v)
	}
	back, err := encode(targetSpecs, v)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(back, plain) {
		t.Fatalf("round trip: got %v want %v", back, plain)
	}
}

func TestDecodeBindingErrors(t *testing.T) {
	plain := map[string]string{"count": "7", "rate": "1", "small": "1", "name": "x"}
	tests := []struct {
		specs []Spec
		plain map[string]string
		want  string
	}{
		{[]Spec{{Name: "lost", Field: "Lost", Kind: Int}}, plain, `lost binds to field "Lost", which hparams.target lacks`},
		{[]Spec{{Name: "rate", Field: "Rate", Kind: Int}}, plain, "rate is integer but field hparams.target.Rate is float64"},
		{[]Spec{{Name: "name", Field: "Name", Kind: Float}}, plain, "name is float but field hparams.target.Name is string"},
		{[]Spec{{Name: "small", Field: "Small", Kind: Int}}, map[string]string{"small": "3000000000"}, `small="3000000000": expected an integer`},
		{[]Spec{{Name: "count", Field: "Count", Kind: Int}}, map[string]string{}, "count: no value"},
	}
	for _, tt := range tests {
		var v target
		err := decode(tt.specs, tt.plain, &v)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decode(%v) error = %v, want it to contain %q", tt.specs[0].Name, err, tt.want)
		}
	}
	if err := decode(targetSpecs, plain, target{}); err == nil || !strings.Contains(err.Error(), "pointer to a struct") {
		t.Errorf("decode into a non-pointer: %v", err)
	}
}

func TestSpecsConsistent(t *testing.T) {
	seen := map[string]bool{}
	tunables := 0
	for _, s := range Specs {
		if seen[s.Name] || seen[s.Alias] && s.Alias != s.Name {
			t.Errorf("duplicate name or alias %s/%s", s.Name, s.Alias)
		}
		seen[s.Name], seen[s.Alias] = true, true
		if s.Alias != strings.ReplaceAll(s.Name, "_", "-") {
			t.Errorf("%s: alias %s is not the kebab-case name", s.Name, s.Alias)
		}
		if _, err := s.Check(s.Default); err != nil {
			t.Errorf("%s: default does not validate: %v", s.Name, err)
		}
		if s.Field == "" {
			t.Errorf("%s: no Field", s.Name)
		}
		if s.Doc == "" {
			t.Errorf("%s: no doc", s.Name)
		}
		if s.Tunable {
			tunables++
		}
	}
	if got := Tunables(); len(got) != tunables {
		t.Errorf("Tunables() = %v, want the %d specs marked Tunable", got, tunables)
	}
	if tunables != 5 {
		t.Errorf("%d tunables, want the five of the brief", tunables)
	}
}

// TestReadmeTableIsCurrent keeps README.md's hyperparameter table equal to MarkdownTable;
// go test ./container/hparams -update rewrites the table in place.
func TestReadmeTableIsCurrent(t *testing.T) {
	const path = "../../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "| name (alias) |")
	if start < 0 {
		t.Fatalf("%s has no hyperparameter table (a line starting %q)", path, "| name (alias) |")
	}
	end := strings.Index(text[start:], "\n\n")
	if end < 0 {
		end = len(text) - start
	} else {
		end++ // keep the table's last newline
	}
	if golden.Updating() {
		text = text[:start] + MarkdownTable() + text[start+end:]
		golden.Write(t, path, []byte(text))
		end = len(MarkdownTable())
	}
	if got := text[start : start+end]; got != MarkdownTable() {
		t.Fatalf("README.md's hyperparameter table is out of date; run go test ./container/hparams -update, or paste:\n%s", MarkdownTable())
	}
}

// defaultOf is the declared default of the hyperparameter name.
func defaultOf(name string) string {
	s, _ := Lookup(name)
	return s.Default
}
