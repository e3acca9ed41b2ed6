package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

func transformHarness(t *testing.T, opt sagemakertest.TransformOptions, more ...sagemakertest.Option) *harness {
	return newHarness(t, append([]sagemakertest.Option{sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{}), sagemakertest.WithTransforms(opt)}, more...)...)
}

var transformIO = []string{"--input", "s3://" + testBucket + "/score/", "--output", "s3://" + testBucket + "/scored/"}

func TestTransformFromTrainingJob(t *testing.T) {
	h := transformHarness(t, sagemakertest.TransformOptions{})
	h.submit("tf-job-1")
	h.run("wait", "tf-job-1")
	r := h.run(append([]string{"transform", "--model", "tf-job-1", "--format", "jsonlines", "--wait"}, transformIO...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	models := h.srv.HostedModels()
	if len(models) != 1 || !strings.HasPrefix(models[0], "tf-job-1-") {
		t.Fatalf("models: %v", models)
	}
	pc, _ := h.srv.ModelRequest(models[0])["PrimaryContainer"].(map[string]any)
	if pc["Image"] != testImage || !strings.HasSuffix(pc["ModelDataUrl"].(string), "/tf-job-1/output/model.tar.gz") {
		t.Errorf("model container: %v", pc)
	}
	jobs := h.srv.TransformJobs()
	if len(jobs) != 1 {
		t.Fatalf("transform jobs: %v", jobs)
	}
	for _, req := range jobs {
		b, _ := json.Marshal(req)
		for _, want := range []string{`"ContentType":"application/jsonlines"`, `"SplitType":"Line"`, `"Accept":"application/jsonlines"`,
			`"AssembleWith":"Line"`, `"ModelName":"` + models[0] + `"`, `"S3Uri":"s3://blueblood-test/score/"`, `"InstanceType":"ml.m5.large"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("request lacks %s:\n%s", want, b)
			}
		}
		if strings.Contains(string(b), "MaxPayloadInMB") || strings.Contains(string(b), "BatchStrategy") {
			t.Errorf("payload or batch strategy sent although the container's /execution-parameters decide them:\n%s", b)
		}
	}
	if !strings.Contains(r.stdout, "Completed") || !strings.Contains(r.stdout, "s3://blueblood-test/scored/") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestTransformExistingModelAndDryRun(t *testing.T) {
	h := transformHarness(t, sagemakertest.TransformOptions{FailureReason: "ClientError: see the container log"})
	_, err := h.clients.SageMaker.CreateModel(t.Context(), &sagemaker.CreateModelInput{ModelName: aws.String("scorer"),
		ExecutionRoleArn: aws.String(testRole), PrimaryContainer: &types.ContainerDefinition{Image: aws.String(testImage),
			ModelDataUrl: aws.String("s3://" + testBucket + "/m/model.tar.gz")}})
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(append([]string{"transform", "--model", "scorer", "--dry-run", "--max-payload-mb", "20", "--max-concurrent", "4",
		"--batch-strategy", "MultiRecord", "--env", "SAGEMAKER_MODEL_SERVER_WORKERS=2"}, transformIO...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"ModelName":"scorer"`) || !strings.Contains(lines[0], `"MaxPayloadInMB":20`) ||
		!strings.Contains(lines[0], `"ContentType":"text/csv"`) || !strings.Contains(lines[0], `"BatchStrategy":"MultiRecord"`) {
		t.Errorf("dry run:\n%s", r.stdout)
	}
	if len(h.srv.TransformJobs()) != 0 || len(h.srv.HostedModels()) != 1 {
		t.Error("the dry run created something")
	}
	r = h.run(append([]string{"transform", "--model", "scorer", "--name", "scored-1", "--wait"}, transformIO...)...)
	if ExitCode(r.err) != ExitJobFailed || !strings.Contains(r.err.Error(), "transform job scored-1 failed: ClientError: see the container log") {
		t.Errorf("failed job: %v", r.err)
	}
}

func TestTransformRefusesBadRequests(t *testing.T) {
	h := transformHarness(t, sagemakertest.TransformOptions{}, sagemakertest.WithStepsPerStatus(1000))
	h.submit("tf-running")
	m := []string{"--model", "tf-running"}
	for _, tt := range []struct {
		args []string
		want string
		code int
	}{
		{transformIO, "--model is required", ExitUsage},
		{[]string{"--model", "x", "--output", "s3://" + testBucket + "/o/"}, "--input is required", ExitUsage},
		{append(append([]string{}, m...), "--input", "/tmp/in.csv", "--output", "s3://"+testBucket+"/o/"), `--input "/tmp/in.csv"`, ExitUsage},
		{append(append([]string{"--format", "parquet"}, m...), transformIO...), `--format "parquet": expected csv or jsonlines`, ExitUsage},
		{append(append([]string{"--max-payload-mb", "101"}, m...), transformIO...), "--max-payload-mb 101: expected 1 to 100", ExitUsage},
		{append(append([]string{"--max-payload-mb", "30", "--max-concurrent", "4"}, m...), transformIO...), "expected at most 100 MB in flight", ExitUsage},
		{append(append([]string{"--instance-type", "ml.t2.medium"}, m...), transformIO...), `--instance-type "ml.t2.medium"`, ExitUsage},
		{append(append([]string{"--batch-strategy", "All"}, m...), transformIO...), `--batch-strategy "All"`, ExitUsage},
		{append(append([]string{"--env", "AWS_ACCESS_KEY_ID=x"}, m...), transformIO...), "credentials do not go into the container", ExitUsage},
		{append([]string{"--model", "nothing-here"}, transformIO...), "neither a SageMaker model nor a training job", ExitFailure},
		{append(append([]string{}, m...), transformIO...), "transform needs a Completed job", ExitFailure},
	} {
		r := h.run(append([]string{"transform"}, tt.args...)...)
		if ExitCode(r.err) != tt.code || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: %v (exit %d), want %q", tt.args, r.err, ExitCode(r.err), tt.want)
		}
	}
	if len(h.srv.TransformJobs()) != 0 || len(h.srv.HostedModels()) != 0 {
		t.Error("something was created")
	}
}
