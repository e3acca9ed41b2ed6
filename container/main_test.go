package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
)

const fixtureRoot = "testdata/opt_ml"

func copyFixture(t *testing.T, name string) string {
	t.Helper()
	root := t.TempDir()
	dockertest.CopyTree(t, filepath.Join(fixtureRoot, name), root)
	return root
}

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"unknown command", []string{"fit"}, 2, "", "unknown command \"fit\"\nusage: trainer"},
		{"train with extra arguments", []string{"train", "--epochs=3"}, 2, "", "train: unexpected arguments"},
		{"help", []string{"--help"}, 0, "usage: trainer [train | serve | prepare | metric-definitions]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, func(string) string { return "" }, time.Now())
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestRunMetricDefinitions(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"metric-definitions"}, &stdout, &stderr, os.Getenv, time.Now()); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got []metricdef.Definition
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if !reflect.DeepEqual(got, metricdef.Definitions()) {
		t.Errorf("printed %v, want %v", got, metricdef.Definitions())
	}
	// The shape CreateTrainingJob's MetricDefinitions takes: Name and Regex keys.
	if !strings.Contains(stdout.String(), `"Name": "validation:rmse"`) || !strings.Contains(stdout.String(), `"Regex": `) {
		t.Errorf("unexpected JSON shape:\n%s", stdout.String())
	}
}

// TestRunTrainDefaultCommand runs the no-argument and "train" forms against a fixture
// through SAGEMAKER_BASE_DIR.
func TestRunTrainDefaultCommand(t *testing.T) {
	for _, args := range [][]string{nil, {"train"}} {
		t.Run(strings.Join(append([]string{"args"}, args...), " "), func(t *testing.T) {
			root := copyFixture(t, "basic")
			env := func(k string) string {
				if k == optml.RootEnv {
					return root
				}
				return ""
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr, env, time.Now()); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			if _, err := model.Load(filepath.Join(root, "model")); err != nil {
				t.Errorf("no model: %v", err)
			}
			if !strings.Contains(stdout.String(), "best epoch=") {
				t.Errorf("no final metrics line:\n%s", stdout.String())
			}
		})
	}
	t.Run("failure exit code", func(t *testing.T) {
		root := copyFixture(t, "basic")
		os.WriteFile(filepath.Join(root, "input/config/hyperparameters.json"), []byte(`{"lerning_rate":"0.1"}`), 0o644)
		var stdout, stderr bytes.Buffer
		env := func(k string) string {
			if k == optml.RootEnv {
				return root
			}
			return ""
		}
		if code := run(context.Background(), []string{"train"}, &stdout, &stderr, env, time.Now()); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.Contains(stderr.String(), "did you mean learning_rate?") {
			t.Errorf("stderr %q", stderr.String())
		}
	})
}

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
)

// trainerBinary builds the static trainer once per test binary.
func trainerBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "blueblood-trainer-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binaryDir = dir
		// Build from exactly what build.Dockerfile's build stage copies, with its flags.
		df, err := os.ReadFile("build.Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		ctxDir := dockertest.BuildStageContext(t, string(df), "..", filepath.Join(dir, "context"))
		binaryPath = dockertest.BuildStaticIn(t, ctxDir, "./container", dir, "trainer")
	})
	if binaryPath == "" {
		t.Fatal("trainer binary was not built")
	}
	return binaryPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// longRun makes a fixture train for many epochs so a stop always lands mid-run.
func longRun(t *testing.T, root string) {
	t.Helper()
	hp := `{"epochs":"100000","lstm_units":"4","encoder_units":"4","batch_size":"8","learning_rate":"0.001","patience":"0","validation_fraction":"0.25","seed":"5"}`
	if err := os.WriteFile(filepath.Join(root, "input/config/hyperparameters.json"), []byte(hp), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkStopped verifies what a SIGTERM leaves: a checkpoint, the best model so far,
// outputs marked interrupted, and no failure file.
func checkStopped(t *testing.T, root string) {
	t.Helper()
	if _, err := model.LoadCheckpoint(filepath.Join(root, "checkpoints", trainer.CheckpointFile)); err != nil {
		t.Errorf("checkpoint: %v", err)
	}
	if _, err := model.Load(filepath.Join(root, "model")); err != nil {
		t.Errorf("best model: %v", err)
	}
	var s struct {
		Status    string `json:"status"`
		EpochsRun int    `json:"epochs_run"`
	}
	data, err := os.ReadFile(filepath.Join(root, "output/data/metrics.json"))
	if err != nil || json.Unmarshal(data, &s) != nil || s.Status != trainer.StatusInterrupted || s.EpochsRun < 1 {
		t.Errorf("metrics.json status %q epochs_run %d (%v), want interrupted", s.Status, s.EpochsRun, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "output/failure")); err == nil {
		t.Errorf("failure file written for a stop: %q", b)
	}
}

// runAndSignal starts cmd, reads the pipe it opens (cmd.StdoutPipe or cmd.StderrPipe)
// line by line, sends sig at the first line that starts with at, and waits; cmd is
// killed after 2 minutes. It returns the lines read and what Wait returned.
func runAndSignal(t *testing.T, cmd *exec.Cmd, pipe func() (io.ReadCloser, error), at string, sig os.Signal) ([]string, error) {
	t.Helper()
	r, err := pipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(r)
	signalled := false
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !signalled && strings.HasPrefix(sc.Text(), at) {
			signalled = true
			cmd.Process.Signal(sig)
		}
	}
	return lines, cmd.Wait()
}

// TestBinarySIGTERM sends a real SIGTERM to the built binary after its first epoch.
func TestBinarySIGTERM(t *testing.T) {
	bin := trainerBinary(t)
	root := copyFixture(t, "basic")
	longRun(t, root)
	cmd := exec.Command(bin, "train")
	cmd.Env = append(os.Environ(), optml.RootEnv+"="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	lines, err := runAndSignal(t, cmd, cmd.StdoutPipe, "epoch=1/", syscall.SIGTERM)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != trainer.ExitStopped {
		t.Fatalf("exit %v, want status %d\nstderr:\n%s", err, trainer.ExitStopped, stderr.String())
	}
	if !strings.HasPrefix(lines[len(lines)-1], "best epoch=") {
		t.Errorf("last stdout line %q, want the best epoch's metrics", lines[len(lines)-1])
	}
	checkStopped(t, root)
}
