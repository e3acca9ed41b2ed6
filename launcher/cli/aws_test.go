package cli

import (
	"errors"
	"strings"
	"testing"
)

// Without any credential source the launcher says what to set, in one line,
// instead of the SDK's provider chain (IMDS fallbacks and all).
func TestMissingCredentialsOneLine(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_SESSION_TOKEN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SAGEMAKER": "",
	} {
		t.Setenv(k, v)
	}
	var out, errb strings.Builder
	err := Run(t.Context(), []string{"status", "some-job"}, strings.NewReader(""), &out, &errb)
	if !errors.Is(err, errNoCredentials) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || strings.Contains(msg, "IMDS") || !strings.Contains(msg, "AWS_PROFILE") || !strings.Contains(msg, "aws sso login") {
		t.Errorf("message: %q", msg)
	}
}
