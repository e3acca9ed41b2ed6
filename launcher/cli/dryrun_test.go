package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// offlineAWSEnv leaves no credential source but the EC2 metadata address, which it points
// (with every AWS endpoint) at a loopback listener that counts connections: any lookup a
// command makes, credentials included, shows up in the count.
func offlineAWSEnv(t *testing.T) *atomic.Int64 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL_S3"} {
		if v, ok := os.LookupEnv(k); ok {
			os.Unsetenv(k)
			t.Cleanup(func() { os.Setenv(k, v) })
		}
	}
	dir := t.TempDir()
	url := "http://" + ln.Addr().String()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_REGION", "us-east-1")
	return &conns
}

// TestDryRunsSendNothing runs every command's --dry-run with the real AWS configuration
// loader and no credentials: each succeeds, prints its requests, and connects nowhere
// (before, sweep and deploy s3://... resolved credentials, asking the EC2 metadata
// address six times; deploy JOB, undeploy and transform read from SageMaker).
func TestDryRunsSendNothing(t *testing.T) {
	conns := offlineAWSEnv(t)
	dir := t.TempDir()
	cases := filepath.Join("testdata", "predict-cases.json")
	s3data := []string{"--image", testImage, "--role", testRole, "--train", "s3://" + testBucket + "/data/train/", "--output", "s3://" + testBucket + "/output"}
	local := []string{"--image", testImage, "--role", testRole, "--train", filepath.Join("testdata", "train.csv"), "--bucket", "s3://" + testBucket + "/bb"}
	for _, tc := range []struct {
		args []string
		want string // in stdout
	}{
		{append([]string{"train"}, s3data...), `"TrainingJobName"`},
		{append([]string{"train"}, local...), `"S3Uri":"s3://` + testBucket + `/bb/inputs/train/`},
		{append([]string{"sweep", "--grid", "epochs=10,20", "--manifest", filepath.Join(dir, "m.json")}, s3data...), `"TrainingJobName"`},
		{append([]string{"tune", "--range", "lstm_units=32:128"}, s3data...), `"HyperParameterTuningJobName"`},
		{[]string{"stop", "job-1"}, `{"TrainingJobName":"job-1"}`},
		{[]string{"predict", "ep", "--input", cases}, `"EndpointName":"ep"`},
		{[]string{"deploy", "s3://" + testBucket + "/output/job-1/output/model.tar.gz", "--image", testImage, "--role", testRole}, `"EndpointName":"blueblood"`},
		{[]string{"deploy", "job-1"}, `"ModelDataUrl":"s3://` + dryRunLookup + `/job-1/output/model.tar.gz"`},
		{[]string{"deploy", "--package", "blood", "--role", testRole}, `"ModelPackageName":"arn:aws:sagemaker:us-east-1:000000000000:model-package/blood/0"`},
		{[]string{"register", "job-1", "--group", "blood"}, `"ModelPackageGroupName":"blood"`},
		{[]string{"undeploy", "ep"}, `"EndpointName":"ep"`},
		{[]string{"transform", "--model", "job-1", "--input", "s3://" + testBucket + "/in/", "--output", "s3://" + testBucket + "/out/"}, `"TransformJobName"`},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			var out, errb bytes.Buffer
			e := DefaultEnv(strings.NewReader(""), &out, &errb)
			e.GitCommit = func() string { return "" }
			if err := e.Run(context.Background(), append(tc.args, "--dry-run")); err != nil {
				t.Fatalf("%v: %v\n%s", tc.args, err, errb.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("%v: output lacks %s:\n%s", tc.args, tc.want, out.String())
			}
			if n := conns.Load(); n != 0 {
				t.Fatalf("%v: %d connection(s) to AWS endpoints or the EC2 metadata address\n%s", tc.args, n, errb.String())
			}
		})
	}
}
