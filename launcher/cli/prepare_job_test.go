package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/processing"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/launcher/sagemakertest"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/s3store"
)

// inProcessImage is the image's entrypoint without Docker: `trainer prepare ...` is
// processing.Run with the job's tree as its root (container/docker_test.go runs the
// real image through the same server).
func inProcessImage(ctx context.Context, r sagemakertest.ContainerRun) (int, error) {
	if len(r.Arguments) == 0 || r.Arguments[0] != processing.Command {
		return trainer.ExitUsage, nil
	}
	err := processing.Run(ctx, processing.Options{Root: r.Root, Args: r.Arguments[1:], Getenv: func(k string) string { return r.Env[k] },
		Stdout: r.Log, Stderr: r.Log})
	if err != nil {
		return trainer.ExitFailure, nil
	}
	return trainer.ExitOK, nil
}

func processingHarness(t *testing.T) *harness {
	t.Helper()
	return processingHarnessWith(t, inProcessImage)
}

func processingHarnessWith(t *testing.T, run sagemakertest.ContainerRunner) *harness {
	t.Helper()
	var h *harness
	h = newHarness(t, sagemakertest.WithProcessing(sagemakertest.ProcessingOptions{Run: run, Store: s3store.Lazy(func() s3store.API { return h.clients.S3 })}))
	t.Cleanup(h.srv.WaitProcessing)
	return h
}

func (h *harness) putFile(key, path string) {
	h.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.s3.PutObject(testBucket, key, nil, bytes.NewReader(b), int64(len(b)), nil); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) getObject(key string) []byte {
	h.t.Helper()
	obj, err := h.s3.GetObject(testBucket, key, nil)
	if err != nil {
		h.t.Fatalf("%s: %v", key, err)
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// TestPrepareJobEndToEnd: prepare --image creates a processing job on the test server,
// which runs the image's prepare on the S3 input; wait, status, logs and list follow it;
// the dataset in S3 is the one the local prepare writes, and it trains.
func TestPrepareJobEndToEnd(t *testing.T) {
	h := processingHarness(t)
	const table = "../../pipeline/testdata/synthetic_small.csv"
	h.putFile("raw/synthetic_small.csv", table)
	out := "s3://" + testBucket + "/prepared"
	r := h.run("prepare", "--image", testImage, "--role", testRole, "--input", "s3://"+testBucket+"/raw/", "--output", out,
		"--seed", "7", "--job-name", "prep-e2e", "--wait")
	if r.err != nil {
		t.Fatalf("%v\n%s\n%s", r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{"submitted prep-e2e", "status    Completed",
		"channels  --train " + out + "/train/ --validation " + out + "/validation/ --test " + out + "/test/"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "prepare: 1 inputs") || !strings.Contains(r.stdout, "train:") {
		t.Errorf("the job's log (the container's summary) was not printed:\n%s", r.stdout)
	}
	var req struct {
		AppSpecification struct{ ContainerArguments []string }
		ProcessingInputs []struct {
			InputName string
			S3Input   struct{ S3Uri, LocalPath string }
		}
	}
	bodies := h.srv.Bodies("SageMaker.CreateProcessingJob")
	if len(bodies) != 1 || json.Unmarshal(bodies[0], &req) != nil {
		t.Fatalf("CreateProcessingJob bodies: %q", bodies)
	}
	if want := []string{"prepare", "Seed=7", "Fractions=[0.7,0.15,0.15]", "OverflowPolicy=truncate", "Read.MinusOne.All=auto",
		"Read.Pairing.Analytes=chemistry", "Read.Pairing.PreWindowHours=24", "Read.Pairing.MinLagHours=1", "Read.Pairing.PostWindowHours=24", "Read.Pairing.Mode=windows"}; !reflect.DeepEqual(req.AppSpecification.ContainerArguments, want) {
		t.Errorf("ContainerArguments %q, want %q", req.AppSpecification.ContainerArguments, want)
	}
	if len(req.ProcessingInputs) != 1 || req.ProcessingInputs[0].InputName != "input-1" || req.ProcessingInputs[0].S3Input.LocalPath != "/opt/ml/processing/input/input-1" {
		t.Errorf("inputs %+v", req.ProcessingInputs)
	}

	// The same options run locally give the same arrays: one code path.
	local := filepath.Join(t.TempDir(), "local")
	if r := h.run("prepare", "--input", table, "--output", local, "--seed", "7"); r.err != nil {
		t.Fatalf("local prepare: %v\n%s", r.err, r.stderr)
	}
	dir := t.TempDir()
	for _, split := range pipeline.Channels {
		var job, loc pipeline.Manifest
		if err := json.Unmarshal(h.getObject("prepared/"+split+"/manifest.json"), &job); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(local, split, "manifest.json"))
		if err := json.Unmarshal(b, &loc); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(job.Arrays, loc.Arrays) || job.Samples != loc.Samples || job.Samples == 0 && split == "train" {
			t.Errorf("%s: job arrays differ from the local prepare's (%d vs %d samples)", split, job.Samples, loc.Samples)
		}
		for _, a := range job.Arrays {
			writeObject(t, h, "prepared/"+split+"/"+a.File, filepath.Join(dir, split, a.File))
		}
		writeObject(t, h, "prepared/"+split+"/manifest.json", filepath.Join(dir, split, "manifest.json"))
	}
	var sum pipeline.Summary
	if err := json.Unmarshal(h.getObject("prepared/summary.json"), &sum); err != nil || sum.Output != out || sum.Splits[0].Path != out+"/train" {
		t.Errorf("summary.json: output %q splits %+v (%v)", sum.Output, sum.Splits, err)
	}

	// status, logs and list know the processing job.
	if r := h.run("status", "prep-e2e"); r.err != nil || !strings.Contains(r.stdout, "job       prep-e2e (processing)") || !strings.Contains(r.stdout, "arguments prepare Seed=7") {
		t.Errorf("status: %v\n%s", r.err, r.stdout)
	}
	if r := h.run("logs", "prep-e2e"); r.err != nil || !strings.Contains(r.stdout, "prepare: 1 inputs") {
		t.Errorf("logs: %v\n%s", r.err, r.stdout)
	}
	if r := h.run("list", "--processing"); r.err != nil || !strings.Contains(r.stdout, "prep-e2e  Completed") {
		t.Errorf("list --processing: %v\n%s", r.err, r.stdout)
	}

	// train takes the output as its channels.
	if r := h.run(append([]string{"train", "--name", "train-on-prep"}, strings.Fields(
		"--image "+testImage+" --role "+testRole+" --output s3://"+testBucket+"/models --train "+out+"/train/ --validation "+out+"/validation/ --test "+out+"/test/")...)...); r.err != nil {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	// ... and the trainer trains on it: the dataset from S3 as the channels of a run.
	root := filepath.Join(t.TempDir(), "opt_ml")
	tree := optml.Paths{Root: root}
	channels := map[string]optml.ChannelConfig{}
	if err := os.MkdirAll(tree.ConfigDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, split := range pipeline.Channels {
		if err := os.MkdirAll(filepath.Dir(tree.Channel(split)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, split), tree.Channel(split)); err != nil {
			t.Fatal(err)
		}
		channels[split] = optml.ChannelConfig{TrainingInputMode: "File"}
	}
	hp := map[string]string{"epochs": "2", "lstm_units": "4", "encoder_units": "4", "batch_size": "16"}
	if err := tree.WriteConfig(hp, channels, optml.ResourceConfig{CurrentHost: "algo-1", Hosts: []string{"algo-1"}}); err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	if err := trainer.Train(context.Background(), trainer.Options{Root: root, Stdout: &logb, Stderr: &logb}); err != nil {
		t.Fatalf("training on the job's dataset: %v\n%s", err, logb.String())
	}
	if !strings.Contains(logb.String(), "channel train: reading prepared dataset") {
		t.Errorf("the trainer did not read the prepared channels:\n%s", logb.String())
	}
	if _, err := os.Stat(filepath.Join(tree.ModelDir(), "model.json")); err != nil {
		t.Errorf("no model: %v", err)
	}
}

func writeObject(t *testing.T, h *harness, key, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, h.getObject(key), 0o644); err != nil {
		t.Fatal(err)
	}
}
