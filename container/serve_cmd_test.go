package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestServeUsesTheGivenEnvironment: `serve` reads its settings through the getenv that
// run is given and reports on the given stderr, like `train`, not from the process.
func TestServeUsesTheGivenEnvironment(t *testing.T) {
	var stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "SAGEMAKER_BIND_TO_PORT" {
			return "not-a-port"
		}
		return ""
	}
	code := run(context.Background(), []string{"serve"}, io.Discard, &stderr, getenv, time.Now())
	if code == 0 || !strings.Contains(stderr.String(), `SAGEMAKER_BIND_TO_PORT="not-a-port"`) {
		t.Fatalf("exit %d, stderr %q; want the bad port from the given environment named", code, stderr.String())
	}
}
