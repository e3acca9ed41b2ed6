package cli

import (
	"strings"
	"testing"
)

// P7, P8: bucket names and tag keys the API would refuse are refused before any
// request: adjacent periods, IP addresses, reserved prefixes and suffixes; aws: tag
// keys and duplicate keys (among --tag, or with the launcher's own).
func TestBucketAndTagRules(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--output", "s3://my..bucket/out"}, `bucket "my..bucket" is not a valid S3 bucket name: two adjacent periods`},
		{[]string{"--output", "s3://192.168.1.1/out"}, "formatted as an IP address"},
		{[]string{"--train", "s3://xn--bucket/t/"}, "the prefix xn-- is reserved"},
		{[]string{"--output", "s3://data-s3alias/out"}, "the suffix -s3alias is reserved"},
		{[]string{"--tag", "aws:team=x"}, `"aws:team": keys starting with aws: are reserved for AWS`},
		{[]string{"--tag", "AWS:Team=x"}, "reserved for AWS"},
		{[]string{"--tag", "team=a", "--tag", "team=b"}, "--tag team: given twice"},
		{[]string{"--tag", "blueblood:git-commit=x"}, "--tag blueblood:git-commit: the launcher sets this key itself"},
	} {
		r := h.run(append(append([]string{"train", "--name", "rules-1"}, base()...), tt.extra...)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: %v, want a usage error containing %q", tt.extra, r.err, tt.want)
		}
	}
	if tags := h.srv.JobTags("rules-1"); tags != nil {
		t.Errorf("a job reached the service with tags %v", tags)
	}
}
