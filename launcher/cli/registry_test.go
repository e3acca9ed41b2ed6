package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// TestRegisterApproveDeploy: a job's model is registered (image, artifacts, content
// types, metrics), listed, refused for deployment until approved, then deployed
// from the package.
func TestRegisterApproveDeploy(t *testing.T) {
	h := newHarness(t, sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{Container: containerHandler(t).Handler()}),
		sagemakertest.WithRegistry())
	job := completedJob(t, h)

	r := h.run("register", job, "--group", "icu-lstm")
	if r.err != nil {
		t.Fatalf("register: %v\n%s", r.err, r.stderr)
	}
	arn := "arn:aws:sagemaker:us-east-1:123456789012:model-package/icu-lstm/1"
	if !strings.Contains(r.stdout, "registered job-1 as "+arn+" (PendingManualApproval)") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	pkg := lastBody(t, h, "SageMaker.CreateModelPackage")
	spec := jsonOf(pkg["InferenceSpecification"])
	for _, w := range []string{`"Image":"` + testImage + `"`, `"ModelDataUrl":"s3://blueblood-test/output/job-1/output/model.tar.gz"`,
		`"SupportedContentTypes":["application/json","text/csv","application/jsonlines"]`} {
		if !strings.Contains(spec, w) {
			t.Errorf("InferenceSpecification lacks %s: %s", w, spec)
		}
	}
	meta := jsonOf(pkg["CustomerMetadataProperties"])
	if !strings.Contains(meta, `"blueblood:training-job":"job-1"`) || !strings.Contains(meta, `"metric:validation:rmse":"`) {
		t.Errorf("metadata %s", meta)
	}
	if h.srv.Calls("SageMaker.CreateModelPackageGroup") != 1 {
		t.Errorf("group not created")
	}

	// a second version goes into the existing group
	if r := h.run("register", job, "--group", "icu-lstm", "--description", "same job again"); r.err != nil {
		t.Fatalf("register 2: %v", r.err)
	}
	if h.srv.Calls("SageMaker.CreateModelPackageGroup") != 1 {
		t.Errorf("group created twice")
	}

	r = h.run("models", "--group", "icu-lstm")
	if r.err != nil {
		t.Fatalf("models: %v", r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2 ") || !strings.HasPrefix(lines[2], "1 ") ||
		!strings.Contains(lines[2], "PendingManualApproval") || !strings.Contains(lines[2], "job-1") || !strings.Contains(lines[2], "validation:rmse=") {
		t.Errorf("models:\n%s", r.stdout)
	}

	// nothing approved: deploy refuses, naming what to do
	r = h.run("deploy", "--package", "icu-lstm", "--role", testRole)
	if r.err == nil || !strings.Contains(r.err.Error(), "no Approved version") {
		t.Errorf("deploy of an unapproved group: %v", r.err)
	}
	r = h.run("deploy", "--package", "icu-lstm/1", "--role", testRole)
	if r.err == nil || !strings.Contains(r.err.Error(), "PendingManualApproval, not Approved") || !strings.Contains(r.err.Error(), "launcher approve") {
		t.Errorf("deploy of an unapproved version: %v", r.err)
	}
	if n := h.srv.Calls("SageMaker.CreateModel"); n != 0 {
		t.Fatalf("%d models created for unapproved packages", n)
	}
	// ... unless told
	// (a dry run reads nothing: the version is a placeholder ARN, said on stderr)
	r = h.run("deploy", "--package", "icu-lstm/2", "--role", testRole, "--allow-unapproved", "--dry-run")
	if r.err != nil || !strings.Contains(r.stdout, `"ModelPackageName":"`+dryRunPackageArn("icu-lstm", "2")+`"`) ||
		!strings.Contains(r.stderr, "would find version 2 of model package group icu-lstm") {
		t.Errorf("--allow-unapproved dry run: %v\n%s", r.err, r.stdout)
	}

	if r := h.run("approve", "icu-lstm/1", "--reason", "reviewed by the ICU model board"); r.err != nil || !strings.Contains(r.stdout, "is Approved") {
		t.Fatalf("approve: %v\n%s", r.err, r.stdout)
	}
	if got := h.srv.ModelPackageApproval(arn); got != "Approved" {
		t.Fatalf("approval %q", got)
	}
	if r := h.run("approve", "icu-lstm/2", "--reject"); r.err != nil {
		t.Fatalf("reject: %v", r.err)
	}

	// the newest Approved version (1; 2 is Rejected) is deployed
	r = h.run("deploy", "--package", "icu-lstm", "--role", testRole)
	if r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.stderr)
	}
	m := lastBody(t, h, "SageMaker.CreateModel")
	if jsonOf(m["Containers"]) != `[{"ModelPackageName":"`+arn+`"}]` || m["PrimaryContainer"] != nil || m["ExecutionRoleArn"] != testRole {
		t.Errorf("CreateModel %s", jsonOf(m))
	}
	if st := h.srv.EndpointStatus("icu-lstm"); st != "InService" {
		t.Errorf("endpoint status %q", st)
	}
	// the role and network come from the team's SageMaker config file
	r = h.runWith(map[string]string{"HOME": teamHome(t)}, "deploy", "--package", "icu-lstm/1", "--name", "icu-lstm-vpc", "--no-wait")
	if r.err != nil {
		t.Fatalf("deploy with the config file: %v\n%s", r.err, r.stderr)
	}
	if m := lastBody(t, h, "SageMaker.CreateModel"); m["ExecutionRoleArn"] != teamHosting || jsonOf(m["VpcConfig"]) != teamVpc1 || m["EnableNetworkIsolation"] != true {
		t.Errorf("CreateModel from the config file %s", jsonOf(m))
	}
	if r := h.run("deploy", "--package", "icu-lstm", "--image", testImage, "--role", testRole); ExitCode(r.err) != ExitUsage {
		t.Errorf("--image with --package: %v", r.err)
	}
}

// TestPredictTrace: the inference id reaches the endpoint (and the container's log),
// the custom attributes go to the container and its echo comes back.
func TestPredictTrace(t *testing.T) {
	h := deployed(t)
	r := h.run("predict", "ep", "--input", filepath.Join("testdata", "predict-cases.json"),
		"--inference-id", "adm-20251125-0042", "--custom-attributes", "ward=icu;request=17")
	if r.err != nil {
		t.Fatalf("predict: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stderr, "custom attributes: ward=icu;request=17") {
		t.Errorf("the container's custom attributes were not shown:\n%s", r.stderr)
	}
	if ids := h.srv.EndpointInferenceIDs("ep"); len(ids) != 1 || ids[0] != "adm-20251125-0042" {
		t.Errorf("inference ids %v", ids)
	}
	for _, bad := range [][]string{{"--inference-id", " leading-space"}, {"--inference-id", strings.Repeat("x", 65)}, {"--custom-attributes", "é"}} {
		r := h.run(append([]string{"predict", "ep", "--input", filepath.Join("testdata", "predict-cases.json")}, bad...)...)
		if ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: %v", bad, r.err)
		}
	}
}

// TestMetricsOfAJob: per-epoch metrics from the job's log, as a table and a curve.
func TestMetricsOfAJob(t *testing.T) {
	h := newHarness(t)
	h.submit("m-job")
	if r := h.run("wait", "m-job"); r.err != nil {
		t.Fatal(r.err)
	}
	r := h.run("metrics", "m-job", "--height", "6")
	if r.err != nil {
		t.Fatalf("metrics: %v\n%s", r.err, r.stderr)
	}
	// DefaultOutcome logs 3 epochs, losses falling by a tenth each, then the best epoch again
	lines := strings.Split(r.stdout, "\n")
	if !strings.Contains(lines[0], "epoch") || !strings.Contains(lines[0], "train:loss") || !strings.Contains(lines[0], "validation:mae") {
		t.Fatalf("header %q\n%s", lines[0], r.stdout)
	}
	for i, e := range []string{" 1/", " 2/", " 3/"} {
		if !strings.Contains(lines[1+i], e) {
			t.Errorf("row %d %q, want epoch %s", i+1, lines[1+i], e)
		}
	}
	if strings.Count(r.stdout, " 3/") != 1 {
		t.Errorf("the closing best-epoch line was counted as an epoch:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "learning curve (t = train:loss, v = validation:loss, * = both)") {
		t.Fatalf("no curve:\n%s", r.stdout)
	}
	// the first epoch has the highest losses: its column has the top mark
	curve := r.stdout[strings.Index(r.stdout, "learning curve"):]
	rows := strings.Split(curve, "\n")[1:7]
	top := rows[0][strings.Index(rows[0], "|")+1:]
	if !strings.HasPrefix(top, "v") {
		t.Errorf("top row %q should start with the first epoch's validation loss\n%s", top, curve)
	}
	// while running: --follow reads until the job ends, then shows the whole curve
	h.submit("m-run")
	r = h.run("metrics", "m-run", "--follow")
	if r.err != nil {
		t.Fatalf("metrics --follow: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "m-run: ") || !strings.Contains(r.stdout, "3 epochs so far") || !strings.Contains(r.stdout, "learning curve") {
		t.Errorf("follow output:\n%s", r.stdout)
	}
	if h.sleepCount() == 0 {
		t.Error("--follow did not poll")
	}
	if r := h.run("metrics", "no-such-job"); r.err == nil {
		t.Error("metrics of a missing job succeeded")
	}
}
