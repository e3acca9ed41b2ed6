package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// runWith runs the launcher with extra environment variables.
func (h *harness) runWith(vars map[string]string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	e := h.env(&out, &errb)
	base := e.Getenv
	e.Getenv = func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return base(k)
	}
	err := e.Run(context.Background(), args)
	return result{out.String(), errb.String(), err}
}

// lastBody decodes the last request the server received for op.
func lastBody(t *testing.T, h *harness, op string) map[string]any {
	t.Helper()
	bs := h.srv.Bodies(op)
	if len(bs) == 0 {
		t.Fatalf("no %s request", op)
	}
	var m map[string]any
	if err := json.Unmarshal(bs[len(bs)-1], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a decoded request by keys ("VpcConfig", "Subnets").
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

const (
	testOutKey = "arn:aws:kms:us-east-1:123456789012:key/out-0001"
	testVolKey = "arn:aws:kms:us-east-1:123456789012:key/vol-0002"
)

var netFlags = []string{"--subnets", "subnet-0a1,subnet-0b2", "--security-groups", "sg-0c3",
	"--output-kms-key", testOutKey, "--volume-kms-key", testVolKey, "--network-isolation"}

const wantVpc = `{"SecurityGroupIds":["sg-0c3"],"Subnets":["subnet-0a1","subnet-0b2"]}`

func checkTrainingSecurity(t *testing.T, what string, req map[string]any) {
	t.Helper()
	if got := jsonOf(req["VpcConfig"]); got != wantVpc {
		t.Errorf("%s VpcConfig %s, want %s", what, got, wantVpc)
	}
	if at(req, "OutputDataConfig", "KmsKeyId") != testOutKey || at(req, "ResourceConfig", "VolumeKmsKeyId") != testVolKey {
		t.Errorf("%s keys: %s %s", what, jsonOf(req["OutputDataConfig"]), jsonOf(req["ResourceConfig"]))
	}
	if req["EnableNetworkIsolation"] != true || req["EnableInterContainerTrafficEncryption"] != true {
		t.Errorf("%s isolation %v, traffic encryption %v", what, req["EnableNetworkIsolation"], req["EnableInterContainerTrafficEncryption"])
	}
	if at(req, "RetryStrategy", "MaximumRetryAttempts") != float64(3) {
		t.Errorf("%s RetryStrategy %s", what, jsonOf(req["RetryStrategy"]))
	}
}

// TestNetworkAndKeysOnEveryRequest: train, sweep, tune, deploy and transform send
// the VPC, KMS keys, isolation and traffic encryption they are given, through the
// real SDK client to the test server, which checks each shape.
func TestNetworkAndKeysOnEveryRequest(t *testing.T) {
	h := newHarness(t, sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{Container: containerHandler(t).Handler()}),
		sagemakertest.WithTransforms(sagemakertest.TransformOptions{}))
	train := append(append([]string{"--encrypt-inter-container-traffic", "--retries", "3"}, netFlags...), base()...)

	if r := h.run(append([]string{"train", "--name", "job-1"}, train...)...); r.err != nil {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	checkTrainingSecurity(t, "train", lastBody(t, h, "SageMaker.CreateTrainingJob"))

	manifest := filepath.Join(t.TempDir(), "m.json")
	if r := h.run(append([]string{"sweep", "--grid", "epochs=10,20", "--manifest", manifest}, train...)...); r.err != nil {
		t.Fatalf("sweep: %v\n%s", r.err, r.stderr)
	}
	bodies := h.srv.Bodies("SageMaker.CreateTrainingJob")
	if len(bodies) != 3 {
		t.Fatalf("%d training jobs, want 3", len(bodies))
	}
	checkTrainingSecurity(t, "sweep", lastBody(t, h, "SageMaker.CreateTrainingJob"))

	if r := h.run(append([]string{"tune", "--range", "learning_rate=0.001:0.1:log", "--max-jobs", "4", "--seed", "7",
		"--target-metric-value", "0.25", "--stop-when-not-improving", "5", "--max-tuning-runtime", "2h"}, train...)...); r.err != nil {
		t.Fatalf("tune: %v\n%s", r.err, r.stderr)
	}
	tune := lastBody(t, h, "SageMaker.CreateHyperParameterTuningJob")
	checkTrainingSecurity(t, "tune", tune["TrainingJobDefinition"].(map[string]any))
	cfg := tune["HyperParameterTuningJobConfig"]
	if at(cfg, "RandomSeed") != float64(7) || at(cfg, "ResourceLimits", "MaxRuntimeInSeconds") != float64(7200) ||
		at(cfg, "TuningJobCompletionCriteria", "TargetObjectiveMetricValue") != 0.25 ||
		at(cfg, "TuningJobCompletionCriteria", "BestObjectiveNotImproving", "MaxNumberOfTrainingJobsNotImproving") != float64(5) {
		t.Errorf("tuning config %s", jsonOf(cfg))
	}

	if r := h.run("wait", "job-1"); r.err != nil {
		t.Fatalf("wait: %v", r.err)
	}
	capture := "s3://" + testBucket + "/capture"
	if r := h.run(append([]string{"deploy", "job-1", "--capture", capture, "--capture-percent", "20"}, netFlags...)...); r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.stderr)
	}
	model := lastBody(t, h, "SageMaker.CreateModel")
	if jsonOf(model["VpcConfig"]) != wantVpc || model["EnableNetworkIsolation"] != true {
		t.Errorf("deploy CreateModel %s", jsonOf(model))
	}
	ec := lastBody(t, h, "SageMaker.CreateEndpointConfig")
	want := `{"CaptureContentTypeHeader":{"CsvContentTypes":["text/csv"],"JsonContentTypes":["application/json","application/jsonlines"]},` +
		`"CaptureOptions":[{"CaptureMode":"Input"},{"CaptureMode":"Output"}],"DestinationS3Uri":"` + capture + `","EnableCapture":true,` +
		`"InitialSamplingPercentage":20,"KmsKeyId":"` + testOutKey + `"}`
	if ec["KmsKeyId"] != testVolKey || jsonOf(ec["DataCaptureConfig"]) != want {
		t.Errorf("endpoint config KmsKeyId %v, DataCaptureConfig %s\nwant %s", ec["KmsKeyId"], jsonOf(ec["DataCaptureConfig"]), want)
	}
	// traffic encryption is a training member; deploy does not take it
	if r := h.run("deploy", "job-1", "--encrypt-inter-container-traffic"); ExitCode(r.err) != ExitUsage {
		t.Errorf("deploy --encrypt-inter-container-traffic: %v", r.err)
	}

	h.now = h.now.Add(time.Minute) // the transform's model gets a name of its own
	if r := h.run(append(append([]string{"transform", "--model", "job-1", "--join-input", "--output-filter", "$[0,-1]"}, transformIO...), netFlags...)...); r.err != nil {
		t.Fatalf("transform: %v\n%s", r.err, r.stderr)
	}
	tm := lastBody(t, h, "SageMaker.CreateModel")
	if jsonOf(tm["VpcConfig"]) != wantVpc || tm["EnableNetworkIsolation"] != true {
		t.Errorf("transform CreateModel %s", jsonOf(tm))
	}
	tj := lastBody(t, h, "SageMaker.CreateTransformJob")
	if at(tj, "TransformOutput", "KmsKeyId") != testOutKey || at(tj, "TransformResources", "VolumeKmsKeyId") != testVolKey {
		t.Errorf("transform keys %s %s", jsonOf(tj["TransformOutput"]), jsonOf(tj["TransformResources"]))
	}
	if got := jsonOf(tj["DataProcessing"]); got != `{"JoinSource":"Input","OutputFilter":"$[0,-1]"}` {
		t.Errorf("DataProcessing %s", got)
	}
}

// TestNewFlagsInDryRun: every new flag shows in the request --dry-run prints.
func TestNewFlagsInDryRun(t *testing.T) {
	h := newHarness(t)
	r := h.run(append(append([]string{"train", "--dry-run", "--encrypt-inter-container-traffic", "--retries", "2"}, netFlags...), base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	for _, want := range []string{`"VpcConfig":` + wantVpc, `"KmsKeyId":"` + testOutKey, `"VolumeKmsKeyId":"` + testVolKey,
		`"EnableNetworkIsolation":true`, `"EnableInterContainerTrafficEncryption":true`, `"RetryStrategy":{"MaximumRetryAttempts":2}`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run lacks %s:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "from: TrainingJob.VpcConfig.Subnets = subnet-0a1,subnet-0b2  (--subnets)") {
		t.Errorf("dry run does not say where values came from:\n%s", r.stderr)
	}
	r = h.run(append([]string{"tune", "--dry-run", "--range", "epochs=5:50", "--seed", "1", "--stop-on-convergence",
		"--target-metric-value", "0.3", "--max-tuning-runtime", "600"}, base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	for _, want := range []string{`"RandomSeed":1`, `"ConvergenceDetected":{"CompleteOnConvergence":"Enabled"}`,
		`"TargetObjectiveMetricValue":0.3`, `"MaxRuntimeInSeconds":600`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("tune dry run lacks %s:\n%s", want, r.stdout)
		}
	}
	r = h.run(append([]string{"deploy", testModelTar, "--image", testImage, "--role", testRole, "--dry-run", "--capture", "s3://" + testBucket + "/cap",
		"--capture-percent", "5"}, netFlags...)...)
	for _, want := range []string{`"DestinationS3Uri":"s3://blueblood-test/cap"`, `"InitialSamplingPercentage":5`, `"VpcConfig":` + wantVpc,
		`"KmsKeyId":"` + testVolKey + `"`, `"EnableNetworkIsolation":true`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("deploy dry run lacks %s:\n%s", want, r.stdout)
		}
	}
	r = h.run("predict", "ep", "--input", filepath.Join("testdata", "predict-cases.json"), "--dry-run", "--inference-id", "case-7", "--custom-attributes", "ward=icu")
	if r.err != nil || !strings.Contains(r.stdout, `"CustomAttributes":"ward=icu"`) || !strings.Contains(r.stdout, `"InferenceId":"case-7"`) {
		t.Errorf("predict dry run: %v\n%s", r.err, r.stdout)
	}
}

// TestBadNetworkAndTuningFlags: bad values stop before anything is sent.
func TestBadNetworkAndTuningFlags(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{
		{"train", "--subnets", "subnet-1"},
		{"train", "--security-groups", "sg-1"},
		{"train", "--subnets", "subnet_1", "--security-groups", "sg-1"},
		{"train", "--subnets", "s1", "--security-groups", "a,b,c,d,e,f"},
		{"train", "--retries", "31"},
		{"tune", "--range", "epochs=5:50", "--stop-when-not-improving", "2"},
		{"tune", "--range", "epochs=5:50", "--max-tuning-runtime", "60"},
		{"tune", "--range", "epochs=5:50", "--target-metric-value", "low"},
		{"tune", "--range", "epochs=5,10", "--strategy", "Grid", "--stop-on-convergence"},
	} {
		r := h.run(append(args, base()...)...)
		if ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: exit %d (%v), want usage error", args, ExitCode(r.err), r.err)
		}
	}
	if n := h.srv.Calls("SageMaker.CreateTrainingJob") + h.srv.Calls("SageMaker.CreateHyperParameterTuningJob"); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestServerChecksNetworkAndKeys: the test server refuses what the service would,
// so a launcher bug shows as a ValidationException.
func TestServerChecksNetworkAndKeys(t *testing.T) {
	h := newHarness(t, sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{}))
	valid := func() *sagemaker.CreateTrainingJobInput {
		in := &sagemaker.CreateTrainingJobInput{
			TrainingJobName:        aws.String("direct"),
			AlgorithmSpecification: &types.AlgorithmSpecification{TrainingImage: aws.String(testImage), TrainingInputMode: types.TrainingInputModeFile},
			RoleArn:                aws.String(testRole),
			OutputDataConfig:       &types.OutputDataConfig{S3OutputPath: aws.String("s3://b/o")},
			ResourceConfig:         &types.ResourceConfig{InstanceType: types.TrainingInstanceTypeMlM5Xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(1)},
			StoppingCondition:      &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(60)},
		}
		return in
	}
	for name, mod := range map[string]func(*sagemaker.CreateTrainingJobInput){
		"six groups": func(in *sagemaker.CreateTrainingJobInput) {
			in.VpcConfig = &types.VpcConfig{Subnets: []string{"s"}, SecurityGroupIds: []string{"1", "2", "3", "4", "5", "6"}}
		},
		"bad subnet": func(in *sagemaker.CreateTrainingJobInput) {
			in.VpcConfig = &types.VpcConfig{Subnets: []string{"s/1"}, SecurityGroupIds: []string{"g"}}
		},
		"31 retries": func(in *sagemaker.CreateTrainingJobInput) {
			in.RetryStrategy = &types.RetryStrategy{MaximumRetryAttempts: aws.Int32(31)}
		},
		"long kms key": func(in *sagemaker.CreateTrainingJobInput) {
			in.OutputDataConfig.KmsKeyId = aws.String(strings.Repeat("k", 2049))
		},
	} {
		in := valid()
		mod(in)
		_, err := h.clients.SageMaker.CreateTrainingJob(context.Background(), in)
		if apiErrorCode(err) != "ValidationException" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
	_, err := h.clients.SageMaker.CreateEndpointConfig(context.Background(), &sagemaker.CreateEndpointConfigInput{
		EndpointConfigName: aws.String("c"),
		ProductionVariants: []types.ProductionVariant{{VariantName: aws.String("v"), ModelName: aws.String("m"), InstanceType: types.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}},
		DataCaptureConfig:  &types.DataCaptureConfig{InitialSamplingPercentage: aws.Int32(101), DestinationS3Uri: aws.String("s3://b/c"), CaptureOptions: []types.CaptureOption{{CaptureMode: types.CaptureModeInput}}},
	})
	if apiErrorCode(err) != "ValidationException" || !strings.Contains(err.Error(), "initialSamplingPercentage") {
		t.Errorf("capture 101%%: %v", err)
	}
}
