package processing

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

const testTable = "../../pipeline/testdata/synthetic_small.csv"

// jobTree builds an /opt/ml tree as the service does for a job with the given inputs
// (name -> table copied into its folder) and the prepared output.
func jobTree(t *testing.T, inputs map[string]string) optml.Paths {
	t.Helper()
	p := optml.Paths{Root: t.TempDir()}
	cfg := optml.ProcessingJobConfig{ProcessingJobName: "prep-1", AppSpecification: optml.AppSpecification{ImageURI: "img"},
		ProcessingOutputConfig: &optml.ProcessingOutputConfig{Outputs: []optml.ProcessingOutput{{OutputName: OutputName,
			S3Output: &optml.ProcessingS3Output{S3URI: "s3://b/prepared", LocalPath: OutputPath(), S3UploadMode: "EndOfJob"}}}}}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		table := inputs[name]
		cfg.ProcessingInputs = append(cfg.ProcessingInputs, optml.ProcessingInput{InputName: name,
			S3Input: &optml.ProcessingS3Input{S3URI: "s3://b/raw/" + name + "/", LocalPath: InputPath(name), S3DataType: "S3Prefix", S3InputMode: "File"}})
		data, err := os.ReadFile(table)
		if err != nil {
			t.Fatal(err)
		}
		dir := p.ProcessingInput(name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(table)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(cfg)
	if err := os.MkdirAll(filepath.Dir(p.ProcessingConfig()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.ProcessingConfig(), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.ProcessingOutput(OutputName), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestRunPreparesTheJobInputsIntoTheOutput(t *testing.T) {
	p := jobTree(t, map[string]string{"input-1": testTable})
	args, err := Arguments(pipeline.PrepareOptions{Seed: 7, Fractions: [3]float64{0.6, 0.2, 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), Options{Root: p.Root, Args: args[1:], Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := p.ProcessingOutput(OutputName)
	if got := strings.Join(entries(t, out), " "); got != "summary.json test train validation" {
		t.Errorf("output holds %q", got)
	}
	for _, split := range pipeline.Channels {
		ok, err := pipeline.IsPrepared(context.Background(), filepath.Join(out, split))
		if !ok || err != nil {
			t.Errorf("%s: not a prepared dataset (%v)", split, err)
		}
	}
	var sum pipeline.Summary
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Seed != 7 || sum.Fractions != [3]float64{0.6, 0.2, 0.2} {
		t.Errorf("options not applied: seed %d fractions %v", sum.Seed, sum.Fractions)
	}
	if sum.Output != "s3://b/prepared" || sum.Splits[0].Path != "s3://b/prepared/train" ||
		len(sum.Inputs) != 1 || sum.Inputs[0] != "s3://b/raw/input-1/" || sum.Sources[0].Path != "s3://b/raw/input-1/synthetic_small.csv" {
		t.Errorf("summary names container folders: inputs %q output %q splits[0] %q sources[0] %q", sum.Inputs, sum.Output, sum.Splits[0].Path, sum.Sources[0].Path)
	}
	if !strings.Contains(stdout.String(), "train:") {
		t.Errorf("no summary on stdout:\n%s", stdout.String())
	}
	if _, err := os.Stat(p.ExitMessage()); err == nil {
		t.Error("output/message written for a success")
	}
}

func TestRunPreSplitInputs(t *testing.T) {
	// the test table cut in two by subject: input names train-1 and test-1 must make
	// them the train and test splits
	b, err := os.ReadFile(testTable)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(string(b)), "\n")
	cut := len(lines) / 2
	for strings.Split(lines[cut], ",")[0] == strings.Split(lines[cut-1], ",")[0] {
		cut++
	}
	dir := t.TempDir()
	train, test := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	os.WriteFile(train, []byte(strings.Join(lines[:cut], "")), 0o644)
	os.WriteFile(test, []byte(lines[0]+strings.Join(lines[cut:], "")), 0o644)
	p := jobTree(t, map[string]string{"train-1": train, "test-1": test})
	var stderr bytes.Buffer
	if err := Run(context.Background(), Options{Root: p.Root, Stderr: &stderr}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum pipeline.Summary
	b, _ = os.ReadFile(filepath.Join(p.ProcessingOutput(OutputName), "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if !sum.PreSplit || sum.Splits[1].Samples != 0 || sum.Splits[2].Samples == 0 || !slices.Contains(sum.Inputs, "train=s3://b/raw/train-1/") {
		t.Errorf("pre-split %v, splits %+v, inputs %q", sum.PreSplit, sum.Splits, sum.Inputs)
	}
}

func TestRunFailureWritesTheMessageAndNoOutput(t *testing.T) {
	p := jobTree(t, map[string]string{"input-1": testTable})
	bad := filepath.Join(p.ProcessingInput("input-1"), "bad.csv")
	if err := os.WriteFile(bad, []byte("subject_id,prescription_start\n1,not-a-date\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), Options{Root: p.Root})
	if err == nil {
		t.Fatal("bad table accepted")
	}
	msg, rerr := os.ReadFile(p.ExitMessage())
	if rerr != nil || !strings.Contains(string(msg), "bad.csv") || len(msg) > optml.MaxExitMessageBytes || strings.Count(string(msg), "\n") != 1 {
		t.Errorf("output/message %q (%v): want one line naming bad.csv", msg, rerr)
	}
	if got := entries(t, p.ProcessingOutput(OutputName)); len(got) != 0 {
		t.Errorf("failed run left %q in the output", got)
	}
}

func TestRunStoppedBySignalLeavesNothing(t *testing.T) {
	p := jobTree(t, map[string]string{"input-1": testTable})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// the signal arrives once the job has started (its first log line), as
	// StopProcessingJob's SIGINT does; main turns SIGINT and SIGTERM into this cancel
	err := Run(ctx, Options{Root: p.Root, Stderr: cancelOnWrite{cancel}})
	if err == nil {
		t.Fatal("cancelled run succeeded")
	}
	msg, _ := os.ReadFile(p.ExitMessage())
	if !strings.HasPrefix(string(msg), "stopped: ") {
		t.Errorf("output/message %q, want it to say stopped", msg)
	}
	if got := entries(t, p.ProcessingOutput(OutputName)); len(got) != 0 {
		t.Errorf("stopped run left %q in the output", got)
	}
}

type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(b []byte) (int, error) { c.cancel(); return len(b), nil }

func TestRunContractErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(p optml.Paths, cfg *optml.ProcessingJobConfig)
		args []string
		want string
	}{
		{"no config", func(p optml.Paths, _ *optml.ProcessingJobConfig) { os.Remove(p.ProcessingConfig()) }, nil, "config/processingjobconfig.json: no such file or directory (is this a SageMaker Processing job?)"},
		{"no output", func(_ optml.Paths, c *optml.ProcessingJobConfig) { c.ProcessingOutputConfig = nil }, nil, `no ProcessingOutput named "prepared"`},
		{"outside", func(_ optml.Paths, c *optml.ProcessingJobConfig) { c.ProcessingInputs[0].S3Input.LocalPath = "/etc" }, nil, `LocalPath "/etc": expected a folder below /opt/ml/processing/`},
		{"escape", func(_ optml.Paths, c *optml.ProcessingJobConfig) {
			c.ProcessingInputs[0].S3Input.LocalPath = "/opt/ml/processing/../input"
		}, nil, "expected a folder below /opt/ml/processing/"},
		{"pipe", func(_ optml.Paths, c *optml.ProcessingJobConfig) { c.ProcessingInputs[0].S3Input.S3InputMode = "Pipe" }, nil, "S3InputMode Pipe"},
		{"bad name", func(_ optml.Paths, c *optml.ProcessingJobConfig) { c.ProcessingInputs[0].InputName = "raw" }, nil, `input "raw": expected a name like input-1`},
		{"bad arg", nil, []string{"Seed=x"}, `argument "Seed=x"`},
		{"not empty", func(p optml.Paths, _ *optml.ProcessingJobConfig) {
			os.WriteFile(filepath.Join(p.ProcessingOutput(OutputName), "keep.txt"), nil, 0o644)
		}, nil, "expected an empty folder, found keep.txt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := jobTree(t, map[string]string{"input-1": testTable})
			var cfg optml.ProcessingJobConfig
			b, _ := os.ReadFile(p.ProcessingConfig())
			json.Unmarshal(b, &cfg)
			if tt.edit != nil {
				if tt.name != "no config" && tt.name != "not empty" {
					tt.edit(p, &cfg)
					b, _ = json.Marshal(cfg)
					os.WriteFile(p.ProcessingConfig(), b, 0o644)
				} else {
					tt.edit(p, &cfg)
				}
			}
			err := Run(context.Background(), Options{Root: p.Root, Args: tt.args})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if msg, _ := os.ReadFile(p.ExitMessage()); !strings.Contains(string(msg), tt.want) {
				t.Errorf("output/message %q lacks %q", msg, tt.want)
			}
			if tt.name == "not empty" {
				if _, err := os.Stat(filepath.Join(p.ProcessingOutput(OutputName), "keep.txt")); err != nil {
					t.Errorf("a file the run did not write was removed: %v", err)
				}
			}
		})
	}
}

func TestSummaryPathsNameS3(t *testing.T) {
	j := &job{s3ByPath: map[string]string{"/r/processing/input/input-1": "s3://b/raw/", "/r/processing/input/train-1": "s3://b/one.csv"}}
	for in, want := range map[string]string{
		"/r/processing/input/input-1":               "s3://b/raw/",
		"/r/processing/input/input-1/hosp/a.csv.gz": "s3://b/raw/hosp/a.csv.gz",
		"train=/r/processing/input/train-1":         "train=s3://b/one.csv",
		"/r/processing/input/train-1/one.csv":       "s3://b/one.csv",
		"/elsewhere/x.csv":                          "/elsewhere/x.csv",
	} {
		if got := j.toS3(in); got != want {
			t.Errorf("toS3(%q) = %q, want %q", in, got, want)
		}
	}
}
