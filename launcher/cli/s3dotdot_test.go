package cli

import (
	"strings"
	"testing"
)

func TestCheckS3URIRefusesDotSegments(t *testing.T) {
	for _, uri := range []string{"s3://my-bucket/data/../other", "s3://my-bucket/./x"} {
		err := checkS3URI("--train", uri)
		if err == nil || !strings.Contains(err.Error(), "segment in the key") || !strings.HasPrefix(err.Error(), "--train s3://") {
			t.Errorf("checkS3URI(%q) = %v, want the dot segment refused", uri, err)
		}
	}
	if err := checkS3URI("--train", "s3://my-bucket/a..b/c"); err != nil {
		t.Errorf("dots inside a segment: %v", err)
	}
}
