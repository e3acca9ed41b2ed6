package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunUsesStandardAWSEnvironment runs the real entry point, whose clients come
// from the standard AWS settings: region, credentials and per-service endpoints.
func TestRunUsesStandardAWSEnvironment(t *testing.T) {
	h := newHarness(t)
	h.submit("env-job")
	for range 4 {
		h.run("status", "env-job") // into Training, so there is a log
	}
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SAGEMAKER":       h.srv.URL,
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": h.srv.URL,
		"AWS_REGION":                       "eu-west-1",
		"AWS_ACCESS_KEY_ID":                "AKIDFROMENVIRONMENT",
		"AWS_SECRET_ACCESS_KEY":            "secret-from-the-environment",
		"AWS_CONFIG_FILE":                  filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(dir, "credentials"),
		"AWS_MAX_ATTEMPTS":                 "1",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_PROFILE":                      "",
	} {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	if err := Run(t.Context(), []string{"status", "env-job"}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("status: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "job       env-job") {
		t.Errorf("stdout:\n%s", out.String())
	}
	out.Reset()
	if err := Run(t.Context(), []string{"logs", "env-job"}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("logs: %v", err)
	}
	if !strings.Contains(out.String(), "blueblood trainer: training env-job") {
		t.Errorf("logs stdout:\n%s", out.String())
	}
	if s := out.String() + errb.String(); strings.Contains(s, "secret-from-the-environment") || strings.Contains(s, "AKIDFROMENVIRONMENT") {
		t.Error("credentials in output")
	}
	t.Setenv("AWS_REGION", "")
	err := Run(t.Context(), []string{"status", "env-job"}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "no AWS region configured") {
		t.Errorf("without a region: %v", err)
	}
}
