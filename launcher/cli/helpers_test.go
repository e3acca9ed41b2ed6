package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

const (
	testRole   = "arn:aws:iam::123456789012:role/BlueBloodSageMaker"
	testImage  = "123456789012.dkr.ecr.us-east-1.amazonaws.com/blueblood:1"
	testBucket = "blueblood-test"
)

// harness runs the launcher against the SageMaker/CloudWatch Logs test server
// and gofakes3, through the real SDK clients, with a fixed clock and no real sleeping.
type harness struct {
	t       *testing.T
	srv     *sagemakertest.Server
	s3      *s3mem.Backend
	clients *Clients
	now     time.Time

	mu     sync.Mutex
	sleeps []time.Duration
}

func newHarness(t *testing.T, opts ...sagemakertest.Option) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2025, 11, 25, 18, 30, 0, 0, time.UTC)}
	h.srv = sagemakertest.New(opts...)
	t.Cleanup(h.srv.Close)
	h.s3 = s3mem.New()
	if err := h.s3.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(h.s3).Server())
	t.Cleanup(s3srv.Close)
	cfg := StaticTestConfig(h.srv.URL)
	h.clients = NewClients(cfg, true)
	h.clients.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s3srv.URL)
		o.UsePathStyle = true
	})
	return h
}

// env returns a fresh Env writing to the given buffers.
func (h *harness) env(stdout, stderr *bytes.Buffer) *Env {
	return &Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr,
		Getenv: func(k string) string {
			if k == "PATH" {
				return "/usr/bin:/bin"
			}
			return ""
		},
		Now: func() time.Time { return h.now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		},
		Clients:      func(context.Context) (*Clients, error) { return h.clients, nil },
		PollInterval: 10 * time.Second,
		LogPollFloor: time.Second,
		LookPath:     func(s string) (string, error) { return s, nil },
		GitCommit:    func() string { return "0123456789ab" },
	}
}

type result struct {
	stdout, stderr string
	err            error
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runCtx(context.Background(), args...)
}

func (h *harness) runCtx(ctx context.Context, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	err := h.env(&out, &errb).Run(ctx, args)
	r := result{out.String(), errb.String(), err}
	for _, s := range []string{"launcher-test-secret-key", "AKIDLAUNCHERTEST"} {
		if strings.Contains(r.stdout+r.stderr, s) || (err != nil && strings.Contains(err.Error(), s)) {
			h.t.Fatalf("credentials in output: %q", s)
		}
	}
	return r
}

func (h *harness) sleepCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sleeps)
}

// base are the flags every submitting test needs.
func base(extra ...string) []string {
	return append([]string{"--image", testImage, "--role", testRole, "--train", "s3://" + testBucket + "/data/train/",
		"--output", "s3://" + testBucket + "/output"}, extra...)
}

func gofakes3ListAll() gofakes3.ListBucketPage { return gofakes3.ListBucketPage{} }

var httpClient = &http.Client{}

func newJSONRequest(url, target string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	return req, nil
}

func newBuf() *bytes.Buffer { return &bytes.Buffer{} }
