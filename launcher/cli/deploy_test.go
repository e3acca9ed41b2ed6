package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/launcher/sagemakertest"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/golden"
)

const testModelTar = "s3://" + testBucket + "/output/job-1/output/model.tar.gz"

// servingModel is a small stand-in for a trained model behind the real serve handler,
// so predict goes through InvokeEndpoint into the container's HTTP code.
type servingModel struct{}

func (servingModel) Predict(samples []pipeline.Sample) ([][]float32, error) {
	out := make([][]float32, len(samples))
	for i, s := range samples {
		v := float32(len(s.Doses))
		if s.PreObserved[0] {
			v += s.Pre[0]
		}
		out[i] = []float32{v, v * 2}
	}
	return out, nil
}
func (servingModel) Layout() pipeline.Layout {
	return pipeline.Layout{Analytes: []string{"ph", "lactate"}, EmbeddingDim: 4, BlockRows: 20, BlockFeatures: 6}
}
func (servingModel) KnownUnit(u string) bool { return u == "mg" || u == "UNIT" }
func (servingModel) Version() string         { return "sha256:test" }
func (servingModel) EmbedDrug(name string) ([]float32, error) {
	return pipeline.EmbedText(name, 4), nil
}
func (servingModel) MaxPrescriptions() int { return 20 }

// containerHandler is the serve package's handler with the stand-in model loaded.
func containerHandler(t *testing.T) *serve.Server {
	t.Helper()
	s := serve.New(func(context.Context) (serve.Model, error) { return servingModel{}, nil })
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newHostingHarness(t *testing.T, opt sagemakertest.EndpointOptions) *harness {
	t.Helper()
	if opt.Container == nil {
		opt.Container = containerHandler(t).Handler()
	}
	return newHarness(t, sagemakertest.WithEndpoints(opt))
}

// runTicking runs the launcher with a clock that advances by every sleep, as time does.
func (h *harness) runTicking(args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	e := h.env(&out, &errb)
	now := h.now
	e.Now = func() time.Time { return now }
	e.Sleep = func(ctx context.Context, d time.Duration) error { now = now.Add(d); return ctx.Err() }
	err := e.Run(context.Background(), args)
	return result{out.String(), errb.String(), err}
}

// completedJob submits a training job and follows it to Completed.
func completedJob(t *testing.T, h *harness) string {
	t.Helper()
	r := h.run(append([]string{"train", "--name", "job-1"}, base()...)...)
	if r.err != nil {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	if r := h.run("wait", "job-1"); r.err != nil {
		t.Fatalf("wait: %v\n%s", r.err, r.stderr)
	}
	return "job-1"
}

func createModelRequests(t *testing.T, h *harness, op string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, b := range h.srv.Bodies(op) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestDeployFromTrainingJob(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	job := completedJob(t, h)
	r := h.run("deploy", job)
	if r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "endpoint job-1 is InService") || !strings.Contains(r.stdout, "launcher predict job-1 --input") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Creating") || !strings.Contains(r.stderr, "InService") {
		t.Errorf("no status progress on stderr:\n%s", r.stderr)
	}
	if st := h.srv.EndpointStatus("job-1"); st != "InService" {
		t.Fatalf("endpoint status %q", st)
	}
	models := h.srv.HostedModels()
	if len(models) != 1 || models[0] != "job-1-20251125183000" {
		t.Fatalf("models %v, want [job-1-20251125183000]", models)
	}
	// image, role and artifacts come from the training job
	req := h.srv.ModelRequest(models[0])
	pc := req["PrimaryContainer"].(map[string]any)
	if pc["Image"] != testImage || req["ExecutionRoleArn"] != testRole || pc["ModelDataUrl"] != "s3://"+testBucket+"/output/job-1/output/model.tar.gz" {
		t.Errorf("CreateModel %v", req)
	}
	cfg := createModelRequests(t, h, "SageMaker.CreateEndpointConfig")[0]
	v := cfg["ProductionVariants"].([]any)[0].(map[string]any)
	if v["InstanceType"] != "ml.m5.large" || v["InitialInstanceCount"] != float64(1) || v["ModelName"] != models[0] || v["VariantName"] != "AllTraffic" {
		t.Errorf("variant %v", v)
	}
}

func TestDeployUpdatesExistingEndpoint(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	if r := h.run("deploy", testModelTar, "--name", "ep", "--image", testImage, "--role", testRole); r.err != nil {
		t.Fatalf("first deploy: %v\n%s", r.err, r.stderr)
	}
	h.now = h.now.Add(time.Hour)
	r := h.run("deploy", testModelTar, "--name", "ep", "--image", testImage, "--role", testRole, "--instance-count", "2", "--env", "SAGEMAKER_MODEL_SERVER_WORKERS=2")
	if r.err != nil {
		t.Fatalf("second deploy: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "updating endpoint ep") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if n := h.srv.Calls("SageMaker.UpdateEndpoint"); n != 1 {
		t.Fatalf("UpdateEndpoint calls %d, want 1", n)
	}
	if got := h.srv.EndpointConfigOf("ep"); got != "ep-20251125193000" {
		t.Fatalf("endpoint serves %q, want the new config ep-20251125193000", got)
	}
	pc := h.srv.ModelRequest("ep-20251125193000")["PrimaryContainer"].(map[string]any)
	if env := pc["Environment"].(map[string]any); env["SAGEMAKER_MODEL_SERVER_WORKERS"] != "2" {
		t.Errorf("environment %v", env)
	}
}

func TestDeployServerless(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	r := h.run("deploy", testModelTar, "--image", testImage, "--role", testRole, "--serverless-memory", "2048", "--serverless-concurrency", "3", "--no-wait")
	if r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.stderr)
	}
	v := createModelRequests(t, h, "SageMaker.CreateEndpointConfig")[0]["ProductionVariants"].([]any)[0].(map[string]any)
	sl, _ := v["ServerlessConfig"].(map[string]any)
	if sl["MemorySizeInMB"] != float64(2048) || sl["MaxConcurrency"] != float64(3) || v["InstanceType"] != nil || v["InitialInstanceCount"] != nil {
		t.Errorf("variant %v", v)
	}
	if st := h.srv.EndpointStatus(defaultEndpoint); st != "Creating" {
		t.Errorf("with --no-wait the endpoint is %q, want Creating", st)
	}
}

func TestDeployFailures(t *testing.T) {
	t.Run("endpoint fails", func(t *testing.T) {
		h := newHostingHarness(t, sagemakertest.EndpointOptions{FailureReason: "The primary container for production variant AllTraffic did not pass the ping health check."})
		r := h.run("deploy", testModelTar, "--image", testImage, "--role", testRole)
		if ExitCode(r.err) != ExitJobFailed || !strings.Contains(r.err.Error(), "endpoint blueblood is Failed: The primary container") {
			t.Fatalf("err %v (exit %d)", r.err, ExitCode(r.err))
		}
	})
	t.Run("timeout", func(t *testing.T) {
		h := newHostingHarness(t, sagemakertest.EndpointOptions{Steps: 1000})
		r := h.runTicking("deploy", testModelTar, "--image", testImage, "--role", testRole, "--timeout", "1m")
		if r.err == nil || !strings.Contains(r.err.Error(), "endpoint blueblood still Creating after 1m0s") {
			t.Fatalf("err %v", r.err)
		}
	})
	t.Run("rollback on a failed create", func(t *testing.T) {
		h := newHostingHarness(t, sagemakertest.EndpointOptions{})
		h.srv.Inject("SageMaker.CreateEndpoint", 1, &sagemakertest.Error{Type: "ResourceLimitExceeded", Message: "endpoint quota"})
		r := h.run("deploy", testModelTar, "--image", testImage, "--role", testRole)
		if r.err == nil || !strings.Contains(r.err.Error(), "create endpoint blueblood") || !strings.Contains(r.err.Error(), "endpoint quota") {
			t.Fatalf("err %v", r.err)
		}
		if m, c := h.srv.HostedModels(), h.srv.EndpointConfigs(); len(m)+len(c) != 0 {
			t.Fatalf("left behind models %v configs %v", m, c)
		}
	})
	t.Run("busy endpoint", func(t *testing.T) {
		h := newHostingHarness(t, sagemakertest.EndpointOptions{Steps: 50})
		if r := h.run("deploy", testModelTar, "--name", "ep", "--image", testImage, "--role", testRole, "--no-wait"); r.err != nil {
			t.Fatal(r.err)
		}
		r := h.run("deploy", testModelTar, "--name", "ep", "--image", testImage, "--role", testRole)
		if r.err == nil || !strings.Contains(r.err.Error(), "endpoint ep is Creating; wait until it is InService") {
			t.Fatalf("err %v", r.err)
		}
	})
}

func TestDeployBadInput(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	if r := h.run(append([]string{"train", "--name", "running-job"}, base()...)...); r.err != nil {
		t.Fatal(r.err)
	}
	img := []string{"--image", testImage, "--role", testRole}
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"no source", []string{"deploy"}, "exactly one MODEL_SOURCE", ExitUsage},
		{"two sources", []string{"deploy", "a", "b"}, "exactly one MODEL_SOURCE", ExitUsage},
		{"not a tarball", append([]string{"deploy", "s3://" + testBucket + "/output/model.pkl"}, img...), "expected the model.tar.gz", ExitUsage},
		{"bad bucket", append([]string{"deploy", "s3://Bad_Bucket/model.tar.gz"}, img...), "is not a valid S3 bucket name", ExitUsage},
		{"bad job name", []string{"deploy", "job_1"}, "MODEL_SOURCE (a training job name) \"job_1\"", ExitUsage},
		{"missing image for s3", []string{"deploy", testModelTar, "--role", testRole}, "--image is required with an s3:// model: the serving image URI", ExitUsage},
		{"bad role", []string{"deploy", testModelTar, "--image", testImage, "--role", "admin"}, "--role \"admin\": expected an IAM role ARN", ExitUsage},
		{"bad endpoint name", append([]string{"deploy", testModelTar, "--name", "my_endpoint"}, img...), "--name \"my_endpoint\"", ExitUsage},
		{"serverless with instances", append([]string{"deploy", testModelTar, "--serverless-memory", "2048", "--instance-type", "ml.m5.xlarge"}, img...), "drop --instance-type", ExitUsage},
		{"serverless memory", append([]string{"deploy", testModelTar, "--serverless-memory", "1500"}, img...), "--serverless-memory 1500: expected 1024", ExitUsage},
		{"serverless concurrency", append([]string{"deploy", testModelTar, "--serverless-memory", "1024", "--serverless-concurrency", "500"}, img...), "--serverless-concurrency 500: expected 1 to 200", ExitUsage},
		{"concurrency alone", append([]string{"deploy", testModelTar, "--serverless-concurrency", "5"}, img...), "needs --serverless-memory", ExitUsage},
		{"instance type", append([]string{"deploy", testModelTar, "--instance-type", "m5.large"}, img...), "--instance-type \"m5.large\"", ExitUsage},
		{"instance count", append([]string{"deploy", testModelTar, "--instance-count", "0"}, img...), "--instance-count 0", ExitUsage},
		{"env key", append([]string{"deploy", testModelTar, "--env", "1X=2"}, img...), "--env \"1X\"", ExitUsage},
		{"env credentials", append([]string{"deploy", testModelTar, "--env", "aws_session_token=x", "--dry-run"}, img...), "--env aws_session_token: credentials do not go into the container", ExitUsage},
		{"timeout", append([]string{"deploy", testModelTar, "--timeout", "soon"}, img...), "--timeout \"soon\"", ExitUsage},
		{"job not completed", []string{"deploy", "running-job"}, "training job running-job is InProgress; deploy needs a Completed job", ExitFailure},
		{"job not found", []string{"deploy", "ghost-job"}, "describe training job ghost-job", ExitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run(tc.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || ExitCode(r.err) != tc.code {
				t.Fatalf("err %v (exit %d), want exit %d containing %q", r.err, ExitCode(r.err), tc.code, tc.want)
			}
		})
	}
	if n := h.srv.Calls("SageMaker.CreateModel"); n != 0 {
		t.Fatalf("bad input reached CreateModel %d times", n)
	}
}

func TestDeployDryRun(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	r := h.run("deploy", testModelTar, "--name", "ep", "--image", testImage, "--role", testRole, "--tag", "team=blood", "--dry-run")
	if r.err != nil {
		t.Fatalf("dry run: %v\n%s", r.err, r.stderr)
	}
	golden.Check(t, filepath.Join("testdata", "deploy-dry-run.golden.json"), []byte(r.stdout))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], `"EndpointConfigName":"ep-20251125183000"`) {
		t.Fatalf("want CreateModel, CreateEndpointConfig and CreateEndpoint, got:\n%s", r.stdout)
	}
	if n := h.srv.Calls("SageMaker.CreateModel") + h.srv.Calls("SageMaker.CreateEndpoint"); n != 0 || len(h.srv.HostedModels()) != 0 {
		t.Fatal("dry run created something")
	}
}

func TestDeployDryRunFromJob(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	job := completedJob(t, h)
	reads := h.srv.Calls("SageMaker.DescribeTrainingJob")
	r := h.run("deploy", job, "--serverless-memory", "1024", "--dry-run")
	if r.err != nil {
		t.Fatalf("dry run: %v\n%s", r.err, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 requests, got:\n%s", r.stdout)
	}
	// the job is not read: its artifacts are placeholders, said on stderr
	if !strings.Contains(r.stderr, "would look up training job job-1 (DescribeTrainingJob)") || h.srv.Calls("SageMaker.DescribeTrainingJob") != reads {
		t.Errorf("dry run read the job or did not say it would: %q", r.stderr)
	}
	for i, want := range []string{
		`"ModelDataUrl":"s3://` + dryRunLookup + `/job-1/output/model.tar.gz"`,
		`"ServerlessConfig":{"MaxConcurrency":5,"MemorySizeInMB":1024}`,
		`"EndpointName":"job-1"`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("request %d lacks %s:\n%s", i, want, lines[i])
		}
	}
	if h.srv.Calls("SageMaker.CreateModel") != 0 || h.srv.EndpointStatus("job-1") != "" {
		t.Fatal("dry run created something")
	}
}
