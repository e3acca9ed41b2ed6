package hparams

import (
	"os"
	"strings"
	"testing"
)

func TestParseDefaults(t *testing.T) {
	v, err := Parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	want := Values{Epochs: 40, LearningRate: 0.001, LSTMUnits: 64, DropoutRate: 0.2, BatchSize: 32,
		Architecture: "pooled-residual", EncoderUnits: 64, Seed: 42, Patience: 10, WeightDecay: 0.003, ValidationFraction: 0.15,
		OverflowPolicy: "truncate", CheckpointEvery: 1}
	if v != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", v, want)
	}
}

func TestParseEncodings(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]string
		want func(Values) bool
	}{
		{"plain", map[string]string{"learning_rate": "0.01"}, func(v Values) bool { return v.LearningRate == 0.01 }},
		{"json string", map[string]string{"learning_rate": `"0.01"`}, func(v Values) bool { return v.LearningRate == 0.01 }},
		{"bare tuning float", map[string]string{"learning_rate": "0.01390030725982051"}, func(v Values) bool { return v.LearningRate == 0.01390030725982051 }},
		{"integral float for int", map[string]string{"epochs": "20.0"}, func(v Values) bool { return v.Epochs == 20 }},
		{"json int string", map[string]string{"lstm_units": `"128"`}, func(v Values) bool { return v.LSTMUnits == 128 }},
		{"kebab alias", map[string]string{"batch-size": "8"}, func(v Values) bool { return v.BatchSize == 8 }},
		{"weight decay", map[string]string{"weight_decay": "0.003"}, func(v Values) bool { return v.WeightDecay == 0.003 }},
		{"weight decay alias", map[string]string{"weight-decay": `"0.01"`}, func(v Values) bool { return v.WeightDecay == 0.01 }},
		{"enum", map[string]string{"architecture": `"seed"`}, func(v Values) bool { return v.Architecture == "seed" }},
		{"ignored sagemaker keys", map[string]string{"_tuning_objective_metric": "validation:rmse", "sagemaker_program": "x"}, func(v Values) bool { return v.Epochs == 40 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(v) {
				t.Fatalf("unexpected values %+v", v)
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
	}
	for _, tt := range tests {
		_, err := Parse(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%v) error = %v, want it to contain %q", tt.raw, err, tt.want)
		}
	}
}

func TestMapRoundTrip(t *testing.T) {
	v := Defaults()
	v.LearningRate = 0.0123
	v.Architecture = "seed"
	v.WeightDecay = 0.01
	back, err := Parse(v.Map())
	if err != nil {
		t.Fatal(err)
	}
	if back != v {
		t.Fatalf("round trip: got %+v want %+v", back, v)
	}
	if len(v.Map()) != len(Specs) {
		t.Fatalf("Map has %d keys, Specs %d: a spec is missing from Values", len(v.Map()), len(Specs))
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
		if s.Doc == "" {
			t.Errorf("%s: no doc", s.Name)
		}
		if s.Tunable {
			tunables++
		}
	}
	if tunables != 5 {
		t.Errorf("%d tunables, want the five of the brief", tunables)
	}
}

func TestReadmeTableIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), MarkdownTable()) {
		t.Fatalf("README.md's hyperparameter table is out of date; paste this in:\n%s", MarkdownTable())
	}
}
