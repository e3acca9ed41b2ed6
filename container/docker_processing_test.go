package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/launcher/cli"
	"github.com/blueblood/blueblood/launcher/sagemakertest"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/s3store"
)

// productionImage builds the production Dockerfile (one stage) around the host-built trainer
// binary and returns its tag and the binary's bytes.
func productionImage(t *testing.T, engine *dockertest.Engine) (string, []byte) {
	t.Helper()
	bin := trainerBinary(t)
	ctxDir := t.TempDir()
	// the production Dockerfile, built as the README does, by the classic builder
	dockertest.ProductionContext(t, bin, ctxDir)
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return engine.BuildImage(t, ctxDir), raw
}

// TestDockerProcessingJob drives the image through the SageMaker test server as a
// processing job: `launcher prepare --image` creates it, the server runs the image under
// Docker (no network) on the S3 input from gofakes3, uploads its output, and the image
// then trains on that output as its channels.
func TestDockerProcessingJob(t *testing.T) {
	engine := dockertest.Require(t)
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	image, _ := productionImage(t, engine)

	const bucket = "blueblood-docker"
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3srv.Close()
	table, err := os.ReadFile("../pipeline/testdata/synthetic_small.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backend.PutObject(bucket, "raw/synthetic_small.csv", nil, bytes.NewReader(table), int64(len(table)), nil); err != nil {
		t.Fatal(err)
	}
	var clients *cli.Clients
	store := s3store.Lazy(func() s3store.API { return clients.S3 })
	srv := sagemakertest.New(sagemakertest.WithProcessing(sagemakertest.ProcessingOptions{Run: sagemakertest.DockerRunner(docker), Store: store}))
	defer srv.Close()
	defer srv.WaitProcessing()
	cfg := cli.StaticTestConfig(srv.URL)
	clients = cli.NewClients(cfg, true)
	clients.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(s3srv.URL); o.UsePathStyle = true })

	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		Now: time.Now, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Clients: func(context.Context) (*cli.Clients, error) { return clients, nil }, PollInterval: time.Second, LogPollFloor: time.Millisecond,
		LookPath: exec.LookPath, GitCommit: func() string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err = env.Run(ctx, []string{"prepare", "--image", image, "--role", "arn:aws:iam::123456789012:role/BlueBlood",
		"--input", "s3://" + bucket + "/raw/", "--output", "s3://" + bucket + "/prepared", "--seed", "5", "--job-name", "prep-docker", "--wait"})
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "status    Completed") || !strings.Contains(stdout.String(), "split:               by subject, seed 5") {
		t.Errorf("stdout:\n%s", stdout.String())
	}

	// The image trains on the job's output, read back from S3 into its channels.
	root := t.TempDir()
	tree := optml.Paths{Root: root}
	channels := map[string]optml.ChannelConfig{}
	for _, split := range pipeline.Channels {
		ds, _, err := pipeline.ReadPrepared(ctx, "s3://"+bucket+"/prepared/"+split, pipeline.ReadOptions{S3: store})
		if err != nil {
			t.Fatalf("the job's %s split: %v", split, err)
		}
		if split == pipeline.SplitTrain && len(ds.Samples) == 0 {
			t.Fatal("empty train split")
		}
		keys, err := store.List(ctx, bucket, "prepared/"+split+"/")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			rc, err := store.Get(ctx, bucket, k)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(rc)
			rc.Close()
			dst := filepath.Join(tree.Channel(split), strings.TrimPrefix(k, "prepared/"+split+"/"))
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		channels[split] = optml.ChannelConfig{TrainingInputMode: "File"}
	}
	hp := map[string]string{"epochs": "2", "lstm_units": "4", "encoder_units": "4", "batch_size": "16"}
	if err := tree.WriteConfig(hp, channels, optml.ResourceConfig{CurrentHost: "algo-1", Hosts: []string{"algo-1"}}); err != nil {
		t.Fatal(err)
	}
	res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"train"}, Mounts: []dockertest.Mount{{Host: root, Container: optml.DefaultRoot}}})
	if res.ExitCode != 0 || !strings.Contains(res.Stderr+res.Stdout, "reading prepared dataset") {
		t.Fatalf("training on the job's output: exit %d\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if _, err := os.Stat(filepath.Join(tree.ModelDir(), "model.json")); err != nil {
		t.Errorf("no model: %v", err)
	}
}
