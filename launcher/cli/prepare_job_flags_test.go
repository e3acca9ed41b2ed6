package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
	"github.com/blueblood/blueblood/pipeline/golden"
)

// TestPrepareJobDryRun: the request is printed, not sent, and the test server (which
// checks the API model's constraints) accepts it as it is.
func TestPrepareJobDryRun(t *testing.T) {
	h := processingHarness(t)
	r := h.run("prepare", "--dry-run", "--image", testImage, "--role", testRole, "--job-name", "prep-dry",
		"--input", "train=s3://blueblood-test/raw/a/", "--input", "train=s3://blueblood-test/raw/b/", "--input", "test=s3://blueblood-test/raw/t/",
		"--output", "s3://blueblood-test/prepared/", "--max-prescriptions", "20", "--overflow-policy", "split", "--max-gap-hours", "48",
		"--instance-type", "ml.r5.2xlarge", "--volume-size", "100", "--max-runtime", "6h", "--env", "BLUEBLOOD_MAX_ROWS=1000000", "--tag", "team=ml")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if h.srv.Calls("SageMaker.CreateProcessingJob") != 0 {
		t.Fatal("dry run called the API")
	}
	golden.Check(t, filepath.Join("testdata", "prepare-job-dry-run.golden.json"), []byte(r.stdout))
	for _, want := range []string{`"InputName":"train-1"`, `"InputName":"train-2"`, `"InputName":"test-1"`, `"LocalPath":"/opt/ml/processing/output/prepared"`,
		`"ContainerArguments":["prepare","Seed=42","Fractions=[0.7,0.15,0.15]","MaxPrescriptions=20","OverflowPolicy=split","Read.MaxGapHours=48","Read.MinusOne.All=auto","Read.Pairing.Analytes=chemistry","Read.Pairing.PreWindowHours=24","Read.Pairing.MinLagHours=1","Read.Pairing.PostWindowHours=24","Read.Pairing.Mode=windows"]`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("request lacks %s:\n%s", want, r.stdout)
		}
	}
	if resp, err := postJSON(h.srv.URL, "SageMaker.CreateProcessingJob", []byte(r.stdout)); err != nil || !strings.Contains(resp, "ProcessingJobArn") {
		t.Errorf("the test server rejects the dry-run request: %v %s", err, resp)
	}
}

func TestPrepareJobBadFlags(t *testing.T) {
	h := processingHarness(t)
	ok := []string{"--image", testImage, "--role", testRole, "--input", "s3://blueblood-test/raw/", "--output", "s3://blueblood-test/p/"}
	with := func(extra ...string) []string {
		return append(append([]string{"prepare", "--dry-run"}, ok...), extra...)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"prepare", "--dry-run", "--input", "s3://blueblood-test/raw/", "--output", "s3://blueblood-test/p/"}, "--image is required"},
		{[]string{"prepare", "--image", testImage, "--input", "s3://blueblood-test/raw/", "--output", "s3://blueblood-test/p/"}, "--role is required"},
		{with("--input", "../../pipeline/testdata/synthetic_small.csv"), "a processing job reads S3"},
		{[]string{"prepare", "--image", testImage, "--role", testRole, "--input", "s3://blueblood-test/raw/", "--output", "/tmp/x"}, "a processing job writes S3"},
		{with("--instance-type", "ml.p5.huge"), "not a processing instance type"},
		{with("--max-runtime", "10d"), "--max-runtime"},
		{with("--max-runtime", "800000"), "at most 777600 seconds"},
		{with("--volume-size", "0"), "--volume-size 0"},
		{with("--job-name", "bad_name"), "--job-name \"bad_name\""},
		{with("--env", "AWS_SECRET_ACCESS_KEY=x"), "credentials do not go into the container"},
		{with("--env", "K="+strings.Repeat("v", 257)), "value longer than 256"},
		{with("--input", "s3://blueblood-test/a/", "--input", "s3://blueblood-test/b/", "--input", "s3://blueblood-test/c/", "--input", "s3://blueblood-test/d/",
			"--input", "s3://blueblood-test/e/", "--input", "s3://blueblood-test/f/", "--input", "s3://blueblood-test/g/", "--input", "s3://blueblood-test/h/",
			"--input", "s3://blueblood-test/i/", "--input", "s3://blueblood-test/j/"), "11 inputs, a processing job takes at most 10"},
	} {
		r := h.run(tt.args...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%q: %v (exit %d), want a usage error with %q", tt.args[2:], r.err, ExitCode(r.err), tt.want)
		}
	}
	if n := h.srv.Calls("SageMaker.CreateProcessingJob"); n != 0 {
		t.Errorf("bad flags reached the API %d times", n)
	}
}

// TestPrepareJobFailsAndStops: a failed job's exit message reaches wait's error (exit
// 3); stop stops a running processing job and wait then exits 4.
func TestPrepareJobFailsAndStops(t *testing.T) {
	h := processingHarness(t)
	h.putFile("raw/bad.csv", "../../pipeline/testdata/join_rx.csv")
	r := h.run("prepare", "--image", testImage, "--role", testRole, "--input", "s3://blueblood-test/raw/", "--output", "s3://blueblood-test/p/", "--job-name", "prep-bad")
	if r.err != nil {
		t.Fatal(r.err)
	}
	r = h.run("wait", "prep-bad")
	if ExitCode(r.err) != ExitJobFailed || !strings.Contains(r.err.Error(), "processing job prep-bad failed: AlgorithmError") || !strings.Contains(r.stdout, "message   ") {
		t.Errorf("wait on a failed job: %v (exit %d)\n%s", r.err, ExitCode(r.err), r.stdout)
	}
	if r := h.run("wait", "no-such-job"); r.err == nil || !strings.Contains(r.err.Error(), "no such training job in region us-east-1 (and no processing job of that name)") {
		t.Errorf("wait on a missing job: %v", r.err)
	}

	// a container that runs until it is stopped
	h = processingHarnessWith(t, func(ctx context.Context, _ sagemakertest.ContainerRun) (int, error) {
		<-ctx.Done()
		return 130, nil
	})
	h.putFile("raw/t.csv", "../../pipeline/testdata/synthetic_small.csv")
	if r := h.run("prepare", "--image", testImage, "--role", testRole, "--input", "s3://blueblood-test/raw/", "--output", "s3://blueblood-test/p/", "--job-name", "prep-long"); r.err != nil {
		t.Fatal(r.err)
	}
	if r := h.run("stop", "prep-long"); r.err != nil || r.stdout != "stopping prep-long\n" {
		t.Fatalf("stop: %v %q", r.err, r.stdout)
	}
	if r := h.run("wait", "prep-long"); ExitCode(r.err) != ExitStopped || !strings.Contains(r.stdout, "status    Stopped") {
		t.Errorf("wait on a stopped job: %v\n%s", r.err, r.stdout)
	}
}

// TestPrepareJobNetworkAndKeys: the processing job takes its role, network and keys from
// the SageMaker config file a team already has, flags win, the dry run says where each
// came from, and the test server accepts the request.
func TestPrepareJobNetworkAndKeys(t *testing.T) {
	h := processingHarness(t)
	env := map[string]string{"HOME": teamHome(t)}
	r := h.runWith(env, "prepare", "--dry-run", "--image", testImage, "--job-name", "prep-sec",
		"--input", "s3://blueblood-test/raw/", "--output", "s3://blueblood-test/prepared/", "--volume-kms-key", testVolKey)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	for _, want := range []string{`"RoleArn":"` + teamRole + `"`, `"VpcConfig":` + teamVpc1, `"EnableNetworkIsolation":true`,
		`"EnableInterContainerTrafficEncryption":true`, `"KmsKeyId":"` + teamOut + `"`, `"VolumeKmsKeyId":"` + testVolKey + `"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("request lacks %s:\n%s", want, r.stdout)
		}
	}
	for _, want := range []string{"ProcessingJob.NetworkConfig.VpcConfig.Subnets", "ProcessingJob.RoleArn"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("dry run does not say where %s came from:\n%s", want, r.stderr)
		}
	}
	if resp, err := postJSON(h.srv.URL, "SageMaker.CreateProcessingJob", []byte(r.stdout)); err != nil || !strings.Contains(resp, "ProcessingJobArn") {
		t.Errorf("the test server rejects the request: %v %s", err, resp)
	}
	bad := strings.NewReplacer(teamOut, strings.Repeat("k", 2049), "prep-sec", "prep-sec-2").Replace(r.stdout)
	if resp, _ := postJSON(h.srv.URL, "SageMaker.CreateProcessingJob", []byte(bad)); !strings.Contains(resp, "ValidationException") {
		t.Errorf("the test server accepts an output key over 2048 characters: %s", resp)
	}
}
