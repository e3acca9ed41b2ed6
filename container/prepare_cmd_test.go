package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/processing"
	"github.com/blueblood/blueblood/container/trainer"
)

// processingTree is an /opt/ml tree for a processing job whose one input holds table.
func processingTree(t *testing.T, table string) optml.Paths {
	t.Helper()
	p := optml.Paths{Root: t.TempDir()}
	name := processing.InputName("", 1)
	cfg := optml.ProcessingJobConfig{ProcessingJobName: "prep",
		ProcessingInputs: []optml.ProcessingInput{{InputName: name,
			S3Input: &optml.ProcessingS3Input{S3URI: "s3://b/raw/", LocalPath: processing.InputPath(name), S3DataType: "S3Prefix", S3InputMode: "File"}}},
		ProcessingOutputConfig: &optml.ProcessingOutputConfig{Outputs: []optml.ProcessingOutput{{OutputName: processing.OutputName,
			S3Output: &optml.ProcessingS3Output{S3URI: "s3://b/prepared/", LocalPath: processing.OutputPath(), S3UploadMode: "EndOfJob"}}}}}
	b, _ := json.Marshal(cfg)
	data, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string][]byte{
		p.ProcessingConfig(): b,
		filepath.Join(p.ProcessingInput(name), filepath.Base(table)): data,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(p.ProcessingOutput(processing.OutputName), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunPrepareCommand(t *testing.T) {
	p := processingTree(t, "../pipeline/testdata/synthetic_small.csv")
	getenv := func(k string) string {
		if k == optml.RootEnv {
			return p.Root
		}
		return ""
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"prepare", "Seed=3"}, &stdout, &stderr, getenv, time.Now()); code != trainer.ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "split:               by subject, seed 3") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	os.RemoveAll(p.ProcessingConfig())
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"prepare"}, &stdout, &stderr, getenv, time.Now()); code != trainer.ExitFailure {
		t.Fatalf("exit %d without a config, want %d", code, trainer.ExitFailure)
	}
	if !strings.Contains(stderr.String(), "prepare: config/processingjobconfig.json: no such file") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// TestBinaryPrepareSIGINT stops the built binary as StopProcessingJob does (SIGINT)
// while it prepares: it exits as stopped, the output is empty, output/message says so.
func TestBinaryPrepareSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer binary")
	}
	bin := trainerBinary(t)
	p := processingTree(t, "../pipeline/testdata/synthetic.csv.gz")
	cmd := exec.Command(bin, "prepare")
	cmd.Env = append(os.Environ(), optml.RootEnv+"="+p.Root)
	log, err := runAndSignal(t, cmd, cmd.StderrPipe, "prepare: 1 inputs", syscall.SIGINT)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != trainer.ExitStopped {
		t.Fatalf("exit %v, want status %d\n%s", err, trainer.ExitStopped, strings.Join(log, "\n"))
	}
	ents, err := os.ReadDir(p.ProcessingOutput(processing.OutputName))
	if err != nil || len(ents) > 0 {
		t.Errorf("output after a stop: %v %v", ents, err)
	}
	if msg, _ := os.ReadFile(p.ExitMessage()); !strings.HasPrefix(string(msg), "stopped: ") {
		t.Errorf("output/message %q", msg)
	}
}
