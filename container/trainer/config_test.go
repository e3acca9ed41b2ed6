package trainer

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/optml"
)

// writeTree writes files (relative path → content) under a new root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const hpPath = "input/config/hyperparameters.json"

func TestLoadConfigHyperparameters(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, v Hyperparameters)
	}{
		{"empty object gives defaults", `{}`, func(t *testing.T, v Hyperparameters) {
			if !maps.Equal(v.Map(), hparams.Defaults()) {
				t.Errorf("got %+v, want defaults", v)
			}
		}},
		{"plain strings", `{"epochs":"20","learning_rate":"0.005","lstm_units":"16","dropout_rate":"0.3","batch_size":"64"}`, func(t *testing.T, v Hyperparameters) {
			if v.Epochs != 20 || v.LearningRate != 0.005 || v.LSTMUnits != 16 || v.DropoutRate != 0.3 || v.BatchSize != 64 {
				t.Errorf("got %+v", v)
			}
		}},
		{"json-encoded strings from framework estimators", `{"learning_rate":"\"0.02\"","architecture":"\"seed\"","epochs":"\"5\""}`, func(t *testing.T, v Hyperparameters) {
			if v.LearningRate != 0.02 || v.Architecture != "seed" || v.Epochs != 5 {
				t.Errorf("got %+v", v)
			}
		}},
		{"bare numbers from tuning jobs", `{"learning_rate":0.01390030725982051,"batch_size":128,"epochs":12.0}`, func(t *testing.T, v Hyperparameters) {
			if v.LearningRate != 0.01390030725982051 || v.BatchSize != 128 || v.Epochs != 12 {
				t.Errorf("got %+v", v)
			}
		}},
		{"kebab-case aliases", `{"learning-rate":"0.2","lstm-units":"8","dropout-rate":"0","batch-size":"4"}`, func(t *testing.T, v Hyperparameters) {
			if v.LearningRate != 0.2 || v.LSTMUnits != 8 || v.DropoutRate != 0 || v.BatchSize != 4 {
				t.Errorf("got %+v", v)
			}
		}},
		{"sagemaker keys ignored", `{"_tuning_objective_metric":"validation:rmse","sagemaker_program":"train.py","sagemaker_estimator_class_name":"Estimator","epochs":"2"}`, func(t *testing.T, v Hyperparameters) {
			if v.Epochs != 2 {
				t.Errorf("got %+v", v)
			}
		}},
		{"sagemaker keys of every JSON type ignored", `{"sagemaker_obj":{"a":[1,{"b":null}]},"sagemaker_list":[1,"x"],"sagemaker_n":3,"sagemaker_null":null,"_tuning_objective_metric":{"Name":"validation:rmse"},"epochs":"2"}`, func(t *testing.T, v Hyperparameters) {
			if v.Epochs != 2 || v.BatchSize != 32 {
				t.Errorf("got %+v", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{hpPath: tt.json})
			cfg, err := loadConfig(optml.Paths{Root: root})
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			tt.check(t, cfg.Hyperparameters)
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // the whole error, or a distinctive part of it
	}{
		{"misspelt hyperparameter", map[string]string{hpPath: `{"lerning_rate":"0.1"}`},
			"input/config/hyperparameters.json: unknown hyperparameter lerning_rate; did you mean learning_rate?"},
		{"unknown hyperparameter far from any name", map[string]string{hpPath: `{"colour":"blue"}`},
			"unknown hyperparameter colour; known: epochs, learning_rate"},
		{"dropout out of range", map[string]string{hpPath: `{"dropout_rate":"1"}`},
			"hyperparameter dropout_rate=1: out of range, expected a number in [0, 1)"},
		{"learning rate zero", map[string]string{hpPath: `{"learning_rate":"0"}`},
			"expected a number in (0, 1]"},
		{"batch size zero", map[string]string{hpPath: `{"batch_size":"0"}`},
			"hyperparameter batch_size=0: out of range, expected an integer in [1, 4096]"},
		{"not a number", map[string]string{hpPath: `{"epochs":"ten"}`},
			`hyperparameter epochs="ten": expected an integer in [1, 100000]`},
		{"same name twice via alias", map[string]string{hpPath: `{"batch_size":"4","batch-size":"8"}`},
			"hyperparameter batch_size given twice"},
		{"null value", map[string]string{hpPath: `{"epochs":null}`},
			"hyperparameter epochs is null; expected a string or number"},
		{"object value", map[string]string{hpPath: `{"epochs":{"v":1}}`},
			"hyperparameter epochs is a JSON object; expected a string or number"},
		{"same key twice, the bad value first", map[string]string{hpPath: `{"epochs":"-5","epochs":"2"}`},
			"input/config/hyperparameters.json: hyperparameter epochs appears twice; expected each key once"},
		{"same key twice, the bad value last", map[string]string{hpPath: `{"epochs":"2","epochs":"-5"}`},
			"input/config/hyperparameters.json: hyperparameter epochs appears twice; expected each key once"},
		{"missing hyperparameters.json", map[string]string{"input/config/resourceconfig.json": `{}`},
			"input/config/hyperparameters.json: missing"},
		{"empty hyperparameters.json", map[string]string{hpPath: "  \n"},
			"input/config/hyperparameters.json: empty file; expected a JSON object"},
		{"malformed hyperparameters.json", map[string]string{hpPath: "{\n  \"epochs\": \"3\",\n}\n"},
			"input/config/hyperparameters.json: line 3 column 1: invalid JSON"},
		{"hyperparameters.json is a list", map[string]string{hpPath: `["epochs"]`},
			"input/config/hyperparameters.json: line 1 column 1: the top level is a JSON array; expected a JSON object"},
		{"malformed inputdataconfig.json", map[string]string{hpPath: `{}`, "input/config/inputdataconfig.json": `{"train": {"TrainingInputMode": File}}`},
			"input/config/inputdataconfig.json: line 1 column 33: invalid JSON"},
		{"inputdataconfig.json channel not an object", map[string]string{hpPath: `{}`, "input/config/inputdataconfig.json": `{"train": "File"}`},
			"input/config/inputdataconfig.json: line 1 column 16: a value is a JSON string; expected a JSON object"},
		{"malformed resourceconfig.json", map[string]string{hpPath: `{}`, "input/config/resourceconfig.json": `{"hosts": "algo-1"}`},
			"input/config/resourceconfig.json: line 1 column 18: field hosts is a JSON string; expected a JSON array"},
		{"malformed checkpointconfig.json", map[string]string{hpPath: `{}`, "input/config/checkpointconfig.json": `{"LocalPath": }`},
			"input/config/checkpointconfig.json: line 1 column 15: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			_, err := loadConfig(optml.Paths{Root: root})
			if err == nil {
				t.Fatalf("LoadConfig succeeded; want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), root) {
				t.Errorf("error %q names the absolute root; want paths relative to it", err)
			}
		})
	}
}

func TestLoadConfigOptionalFiles(t *testing.T) {
	t.Run("absent", func(t *testing.T) {
		root := writeTree(t, map[string]string{hpPath: `{}`})
		cfg, err := loadConfig(optml.Paths{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Channels != nil || cfg.Resource != nil {
			t.Errorf("channels %v resource %v; want nil for absent files", cfg.Channels, cfg.Resource)
		}
		if want := filepath.Join(root, "checkpoints"); cfg.CheckpointDir != want {
			t.Errorf("checkpoint dir %s, want %s", cfg.CheckpointDir, want)
		}
	})
	t.Run("fixture with every file", func(t *testing.T) {
		root := copyFixture(t, "channels")
		cfg, err := loadConfig(optml.Paths{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Channels["validation"]; got.ContentType != "text/csv" || got.TrainingInputMode != "File" || got.S3DistributionType != "FullyReplicated" {
			t.Errorf("validation channel config %+v", got)
		}
		if cfg.Channels["test"].TrainingInputMode != "FastFile" {
			t.Errorf("test channel config %+v", cfg.Channels["test"])
		}
		if r := cfg.Resource; r == nil || r.CurrentHost != "algo-1" || r.CurrentInstanceType != "ml.m5.xlarge" || r.CurrentGroupName != "homogeneousCluster" || len(r.Hosts) != 1 ||
			len(r.InstanceGroups) != 1 || r.InstanceGroups[0].InstanceType != "ml.m5.xlarge" {
			t.Errorf("resource config %+v", cfg.Resource)
		}
		// checkpointconfig.json says /opt/ml/checkpoints: it must land under the root.
		if want := filepath.Join(root, "checkpoints"); cfg.CheckpointDir != want {
			t.Errorf("checkpoint dir %s, want %s", cfg.CheckpointDir, want)
		}
	})
	t.Run("checkpoint path outside /opt/ml", func(t *testing.T) {
		root := writeTree(t, map[string]string{hpPath: `{}`, "input/config/checkpointconfig.json": `{"LocalPath":"/mnt/ckpt"}`})
		cfg, err := loadConfig(optml.Paths{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.CheckpointDir != "/mnt/ckpt" {
			t.Errorf("checkpoint dir %s, want /mnt/ckpt", cfg.CheckpointDir)
		}
	})
}
