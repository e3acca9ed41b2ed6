package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLocalBuildsTreeRunsTrainerAndCopiesArtifacts(t *testing.T) {
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"local", "--trainer", "testdata/fake-trainer.sh", "--train", "testdata/train.csv", "--output", out,
		"--epochs", "2", "--hp", "lstm_units=8", "--name", "local-test-1"}
	if r := h.run(args...); r.err != nil {
		t.Fatalf("first run: %v\n%s\n%s", r.err, r.stdout, r.stderr)
	}
	// A stale file from the earlier run must not survive a --force rerun.
	if err := os.WriteFile(filepath.Join(out, "model", "stale.bin"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := h.run(append(args, "--force")...)
	if r.err != nil {
		t.Fatalf("%v\n%s\n%s", r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"job=local-test-1",
		`hyperparameters={"epochs":"2","lstm_units":"8"}`,
		`inputdataconfig={"train":{"TrainingInputMode":"File","S3DistributionType":"FullyReplicated","RecordWrapperType":"None"}}`,
		`resourceconfig={"current_host":"algo-1","hosts":["algo-1"],"network_interface_name":"eth0","current_instance_type":"ml.m5.xlarge","current_group_name":"homogeneousCluster","instance_groups":[{"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge","hosts":["algo-1"]}]}`,
		"train=train.csv",
		"epoch=1/2 validation:rmse=0.5",
		"metrics:     " + filepath.Join(out, "output", "data", "metrics.json"),
		"predictions: " + filepath.Join(out, "output", "data", "predictions.csv"),
		"charts:      " + filepath.Join(out, "output", "data", "loss.png"),
		"report:      " + filepath.Join(out, "output", "data", "report.md"),
		"model:       " + filepath.Join(out, "model"),
		"local job local-test-1 completed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "progress on stderr") {
		t.Errorf("trainer stderr not streamed: %s", r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "model", "model.json")); err != nil || string(b) != "{\"kind\":\"fake\"}\n" {
		t.Errorf("model.json: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "model", "stale.bin")); err == nil {
		t.Error("stale model file survived")
	}
}

func TestLocalFailureKeepsArtifactsAndReason(t *testing.T) {
	h := newHarness(t)
	out := t.TempDir()
	r := h.run("local", "--trainer", "testdata/fake-trainer.sh", "--train", "testdata", "--output", out, "--env", "FAIL=1")
	if ExitCode(r.err) != ExitJobFailed || !strings.Contains(r.err.Error(), "(exit 2): AlgorithmError: fake failure for the test") {
		t.Fatalf("err = %v", r.err)
	}
	if _, err := os.Stat(filepath.Join(out, "output", "failure")); err != nil {
		t.Errorf("failure file not copied: %v", err)
	}
	if !strings.Contains(r.stdout, "failure:") {
		t.Errorf("failure not listed:\n%s", r.stdout)
	}
}

func TestLocalBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--trainer", "testdata/fake-trainer.sh"}, "--train is required"},
		{[]string{"--trainer", "testdata/fake-trainer.sh", "--train", "s3://b/x"}, "local runs read local files"},
		{[]string{"--trainer", "testdata/fake-trainer.sh", "--train", "testdata/missing.csv"}, "local path does not exist"},
		{[]string{"--trainer", "testdata/fake-trainer.sh", "--train", "testdata/train.csv", "--epochs", "-1"}, "--epochs: hyperparameter epochs=-1"},
		{[]string{"--trainer", "testdata/fake-trainer.sh", "--train", "testdata/train.csv", "--name", "a_b"}, `--name "a_b"`},
		{[]string{"--trainer", "testdata/fake-trainer.sh", "--train", "testdata/train.csv", "--env", "9X=1"}, `--env "9X"`},
	}
	for _, tt := range tests {
		h := newHarness(t)
		r := h.run(append([]string{"local", "--output", t.TempDir()}, tt.args...)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, r.err, tt.want)
		}
	}
	h := newHarness(t)
	var o, e = newBuf(), newBuf()
	env := h.env(o, e)
	env.LookPath = exec.LookPath
	err := env.Run(t.Context(), []string{"local", "--trainer", "no-such-trainer-binary", "--train", "testdata/train.csv", "--output", t.TempDir()})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "go build -o bin/trainer ./container") {
		t.Errorf("missing trainer: %v", err)
	}
}

// TestLocalRealTrainer builds the real trainer and runs it on the bundled small
// synthetic table with tiny hyperparameters.
func TestLocalRealTrainer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer")
	}
	bin := filepath.Join(t.TempDir(), "trainer")
	build := exec.Command("go", "build", "-o", bin, "github.com/blueblood/blueblood/container")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("trainer does not build: %v\n%s", err, out)
	}
	data := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	if _, err := os.Stat(data); err != nil {
		t.Fatalf("bundled data missing: %v", err)
	}
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "run")
	r := h.run("local", "--trainer", bin, "--train", data, "--output", out,
		"--epochs", "2", "--lstm-units", "4", "--batch-size", "16", "--hp", "encoder_units=4", "--hp", "seed=7")
	if r.err != nil {
		t.Fatalf("%v\n%s\n%s", r.err, r.stdout, r.stderr)
	}
	for _, f := range []string{"model", "output/data/metrics.json", "output/data/predictions.csv", "output/data/report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(r.stdout, "best epoch=") || !strings.Contains(r.stdout, "validation:rmse=") {
		t.Errorf("trainer log not streamed:\n%s", r.stdout)
	}
}

func TestLocalImageRunsDockerWithoutNetwork(t *testing.T) {
	h := newHarness(t)
	var o, e = newBuf(), newBuf()
	env := h.env(o, e)
	env.LookPath = func(name string) (string, error) {
		if name == "docker" {
			return "testdata/fake-docker.sh", nil
		}
		return "", exec.ErrNotFound
	}
	out := t.TempDir()
	err := env.Run(t.Context(), []string{"local", "--image", "blueblood:dev", "--train", "testdata/train.csv", "--output", out,
		"--name", "dock-1", "--env", "A=1"})
	if err != nil {
		t.Fatalf("%v\n%s", err, e.String())
	}
	if !regexp.MustCompile(`docker run --rm --network none --cidfile \S+/container.id -v \S+/opt_ml:/opt/ml -e TRAINING_JOB_NAME=dock-1 -e A blueblood:dev train\n`).MatchString(o.String()) {
		t.Errorf("docker invocation:\n%s", o.String())
	}
	if !strings.Contains(o.String(), "container env A=1\n") {
		t.Errorf("the --env value did not reach docker's environment:\n%s", o.String())
	}
	if b, err := os.ReadFile(filepath.Join(out, "model", "model.json")); err != nil || !strings.Contains(string(b), "docker") {
		t.Errorf("model from the container not copied: %q %v", b, err)
	}
}
