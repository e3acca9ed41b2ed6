package cli

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

const (
	teamRole    = "arn:aws:iam::123456789012:role/IcuTeamSageMaker"
	teamHosting = "arn:aws:iam::123456789012:role/IcuTeamHosting"
	teamOut     = "arn:aws:kms:us-east-1:123456789012:key/team-output"
	teamVol     = "arn:aws:kms:us-east-1:123456789012:key/team-volume"
	teamCapture = "arn:aws:kms:us-east-1:123456789012:key/team-capture"
	teamVpc     = `{"SecurityGroupIds":["sg-0123456789abcdef0"],"Subnets":["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]}`
	teamVpc1    = `{"SecurityGroupIds":["sg-0123456789abcdef0"],"Subnets":["subnet-0123456789abcdef0"]}`
)

// teamHome is a HOME whose ~/.config/sagemaker/config.yaml is the team's file.
func teamHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "sagemaker-config", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".config", "sagemaker")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}

// TestSDKConfigFileAsATeamWritesIt: the SageMaker Python SDK's defaults file,
// unchanged, gives train its role, VPC, keys, isolation, traffic encryption and
// tags, and the launcher's own image, instance type and bucket; flags win.
func TestSDKConfigFileAsATeamWritesIt(t *testing.T) {
	h := newHarness(t, sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{}), sagemakertest.WithTransforms(sagemakertest.TransformOptions{}))
	env := map[string]string{"HOME": teamHome(t)}

	r := h.runWith(env, "train", "--name", "cfg-1", "--train", "s3://"+testBucket+"/data/train/")
	if r.err != nil {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	req := lastBody(t, h, "SageMaker.CreateTrainingJob")
	checks := map[string]any{
		"RoleArn":       req["RoleArn"],
		"TrainingImage": at(req, "AlgorithmSpecification", "TrainingImage"),
		"InstanceType":  at(req, "ResourceConfig", "InstanceType"),
		"S3OutputPath":  at(req, "OutputDataConfig", "S3OutputPath"),
		"KmsKeyId":      at(req, "OutputDataConfig", "KmsKeyId"),
		"VolumeKmsKey":  at(req, "ResourceConfig", "VolumeKmsKeyId"),
		"VpcConfig":     jsonOf(req["VpcConfig"]),
		"Isolation":     req["EnableNetworkIsolation"],
		"ICTE":          req["EnableInterContainerTrafficEncryption"],
	}
	want := map[string]any{
		"RoleArn": teamRole, "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/blueblood:2",
		"InstanceType": "ml.m5.2xlarge", "S3OutputPath": "s3://blueblood-test/icu-team/output",
		"KmsKeyId": teamOut, "VolumeKmsKey": teamVol, "VpcConfig": teamVpc, "Isolation": true, "ICTE": true,
	}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %v, want %v", k, checks[k], w)
		}
	}
	if !strings.Contains(jsonOf(req["Tags"]), `{"Key":"cost-center","Value":"icu-research"}`) {
		t.Errorf("tags %s", jsonOf(req["Tags"]))
	}

	// flags win over the file, value by value
	r = h.runWith(env, "train", "--name", "cfg-2", "--train", "s3://"+testBucket+"/data/train/", "--role", testRole,
		"--image", testImage, "--volume-kms-key", testVolKey, "--tag", "cost-center=oncology")
	if r.err != nil {
		t.Fatalf("train with flags: %v\n%s", r.err, r.stderr)
	}
	req = lastBody(t, h, "SageMaker.CreateTrainingJob")
	if req["RoleArn"] != testRole || at(req, "AlgorithmSpecification", "TrainingImage") != testImage ||
		at(req, "ResourceConfig", "VolumeKmsKeyId") != testVolKey || at(req, "OutputDataConfig", "KmsKeyId") != teamOut {
		t.Errorf("flags did not win: %s", jsonOf(req))
	}
	if tags := jsonOf(req["Tags"]); !strings.Contains(tags, "oncology") || strings.Contains(tags, "icu-research") {
		t.Errorf("tag given on the command line should replace the file's: %s", tags)
	}

	// --dry-run says where each value came from
	r = h.runWith(env, "train", "--dry-run", "--train", "s3://"+testBucket+"/data/train/")
	if r.err != nil {
		t.Fatalf("dry run: %v", r.err)
	}
	file := filepath.Join(env["HOME"], ".config", "sagemaker", "config.yaml")
	for _, w := range []string{
		"from: --image = 123456789012.dkr.ecr.us-east-1.amazonaws.com/blueblood:2  (" + file + ": CustomParameters.BlueBlood.Image)",
		"from: --bucket = s3://blueblood-test/icu-team  (" + file + ": SageMaker.PythonSDK.Modules.Session.DefaultS3Bucket)",
		"from: TrainingJob.VpcConfig.Subnets = subnet-0123456789abcdef0,subnet-0fedcba9876543210  (" + file + ": SageMaker.TrainingJob.VpcConfig.Subnets)",
		"from: TrainingJob.OutputDataConfig.KmsKeyId = " + teamOut,
		"from: TrainingJob.RoleArn = " + teamRole,
		"from: TrainingJob.Tags cost-center=icu-research",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("dry run lacks %q:\n%s", w, r.stderr)
		}
	}

	// deploy and transform read the Model, EndpointConfig and TransformJob sections
	if r := h.run("wait", "cfg-1"); r.err != nil {
		t.Fatal(r.err)
	}
	r = h.runWith(env, "deploy", "cfg-1", "--capture", "s3://"+testBucket+"/capture", "--no-wait")
	if r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.stderr)
	}
	m := lastBody(t, h, "SageMaker.CreateModel")
	if m["ExecutionRoleArn"] != teamHosting || jsonOf(m["VpcConfig"]) != teamVpc1 || m["EnableNetworkIsolation"] != true {
		t.Errorf("deploy model %s", jsonOf(m))
	}
	ec := lastBody(t, h, "SageMaker.CreateEndpointConfig")
	if ec["KmsKeyId"] != teamVol || at(ec, "DataCaptureConfig", "KmsKeyId") != teamCapture {
		t.Errorf("endpoint config %s", jsonOf(ec))
	}
	h.now = h.now.Add(60e9)
	r = h.runWith(env, append([]string{"transform", "--model", "cfg-1"}, transformIO...)...)
	if r.err != nil {
		t.Fatalf("transform: %v\n%s", r.err, r.stderr)
	}
	tj := lastBody(t, h, "SageMaker.CreateTransformJob")
	if at(tj, "TransformOutput", "KmsKeyId") != teamOut || at(tj, "TransformResources", "VolumeKmsKeyId") != teamVol {
		t.Errorf("transform %s", jsonOf(tj))
	}
	if m := lastBody(t, h, "SageMaker.CreateModel"); m["ExecutionRoleArn"] != teamHosting || jsonOf(m["VpcConfig"]) != teamVpc1 {
		t.Errorf("transform model %s", jsonOf(m))
	}
}

// TestSDKConfigProcessingJob: the ProcessingJob section (and flags) fill a
// CreateProcessingJob request's network and keys.
func TestSDKConfigProcessingJob(t *testing.T) {
	cfg, err := loadSDKConfig(func(k string) string {
		if k == "HOME" {
			return teamHome(t)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	var f securityFlags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs, reqProcessing)
	if err := fs.Parse([]string{"--volume-kms-key", testVolKey}); err != nil {
		t.Fatal(err)
	}
	sec, err := f.resolve(cfg, reqProcessing)
	if err != nil {
		t.Fatal(err)
	}
	in := &sagemaker.CreateProcessingJobInput{
		ProcessingOutputConfig: &types.ProcessingOutputConfig{},
		ProcessingResources:    &types.ProcessingResources{ClusterConfig: &types.ProcessingClusterConfig{}},
	}
	sec.applyProcessing(in)
	if got := jsonOf(in.NetworkConfig.VpcConfig); got != `{"SecurityGroupIds":["sg-0123456789abcdef0"],"Subnets":["subnet-0123456789abcdef0"]}` ||
		!aws.ToBool(in.NetworkConfig.EnableNetworkIsolation) || !aws.ToBool(in.NetworkConfig.EnableInterContainerTrafficEncryption) {
		t.Errorf("network %s", jsonOf(in.NetworkConfig))
	}
	if aws.ToString(in.ProcessingOutputConfig.KmsKeyId) != teamOut || aws.ToString(in.ProcessingResources.ClusterConfig.VolumeKmsKeyId) != testVolKey {
		t.Errorf("keys %s %s", jsonOf(in.ProcessingOutputConfig), jsonOf(in.ProcessingResources))
	}
	if sec.withRole("", "") != teamRole {
		t.Errorf("role %q", sec.role)
	}
}

// TestSDKConfigMergeAndErrors: the user file wins over the admin file key by key;
// a named override that is missing, a wrong schema version or a wrongly typed
// value is a usage error naming the file.
func TestSDKConfigMergeAndErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	admin := write("admin.yaml", `SchemaVersion: '1.0'
SageMaker:
  TrainingJob:
    RoleArn: `+teamRole+`
    OutputDataConfig:
      KmsKeyId: admin-key
    Tags:
      - {Key: owner, Value: platform}
`)
	user := write("user.yaml", `SchemaVersion: '1.0'
SageMaker:
  TrainingJob:
    OutputDataConfig:
      KmsKeyId: user-key
`)
	h := newHarness(t)
	env := map[string]string{"SAGEMAKER_ADMIN_CONFIG_OVERRIDE": admin, "SAGEMAKER_USER_CONFIG_OVERRIDE": user}
	args := []string{"train", "--name", "merged", "--image", testImage, "--train", "s3://" + testBucket + "/d/", "--output", "s3://" + testBucket + "/o"}
	if r := h.runWith(env, args...); r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	req := lastBody(t, h, "SageMaker.CreateTrainingJob")
	if req["RoleArn"] != teamRole || at(req, "OutputDataConfig", "KmsKeyId") != "user-key" || !strings.Contains(jsonOf(req["Tags"]), "platform") {
		t.Errorf("merged request %s", jsonOf(req))
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"missing override": {map[string]string{"SAGEMAKER_USER_CONFIG_OVERRIDE": filepath.Join(dir, "none.yaml")}, "none.yaml"},
		"schema version":   {map[string]string{"SAGEMAKER_USER_CONFIG_OVERRIDE": write("v2.yaml", "SchemaVersion: '2.0'\n")}, `SchemaVersion 2.0: expected "1.0"`},
		"bool as text": {map[string]string{"SAGEMAKER_USER_CONFIG_OVERRIDE": write("b.yaml", "SageMaker:\n  TrainingJob:\n    EnableNetworkIsolation: maybe\n")},
			"SageMaker.TrainingJob.EnableNetworkIsolation: expected true or false"},
		"not yaml": {map[string]string{"SAGEMAKER_USER_CONFIG_OVERRIDE": write("bad.yaml", "SageMaker: [\n")}, "bad.yaml"},
		"half vpc": {map[string]string{"SAGEMAKER_USER_CONFIG_OVERRIDE": write("vpc.yaml", "SageMaker:\n  TrainingJob:\n    VpcConfig:\n      Subnets: [subnet-1]\n")},
			"vpc.yaml: SageMaker.TrainingJob.VpcConfig.Subnets needs --security-groups"},
	} {
		r := h.runWith(tc.env, append(args, "--role", testRole)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%s: %v, want a usage error with %q", name, r.err, tc.want)
		}
	}
}
