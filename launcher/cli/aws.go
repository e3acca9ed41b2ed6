package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go"
)

// Clients are the AWS clients the launcher uses, built once per run.
type Clients struct {
	SageMaker *sagemaker.Client
	S3        *s3.Client
	Logs      *cloudwatchlogs.Client
	dryRun    bool // Env.dryRunLookups: reads answered offline with placeholders
}

// DefaultClients loads the standard AWS configuration (environment, shared
// config and credentials files, AWS_ENDPOINT_URL_SAGEMAKER / _S3 /
// _CLOUDWATCH_LOGS) and builds the clients.
func DefaultClients(ctx context.Context) (*Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region configured: set AWS_REGION or a region in the AWS profile")
	}
	// Credentials are resolved by Env.aws before the first call, not here: resolving may
	// ask the EC2 metadata address, and a dry run's region and endpoint need none.
	// An S3 endpoint override is usually an S3-compatible store that wants path-style URLs.
	pathStyle := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return NewClients(cfg, pathStyle), nil
}

// checkCredentials resolves the clients' credentials now (the SDK would at the first
// call) so that their absence reads as what to do, not as the provider chain's raw errors.
func (c *Clients) checkCredentials(ctx context.Context) error {
	creds := c.SageMaker.Options().Credentials
	if creds == nil {
		return nil
	}
	if _, err := creds.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errNoCredentials
	}
	return nil
}

// errNoCredentials is the one-line advice when no credential source answers.
var errNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE to a profile in ~/.aws (run aws sso login --profile NAME for SSO), " +
	"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on an instance with a role")

// NewClients builds the clients from a configuration; tests point cfg.BaseEndpoint
// (or per-service options) at their servers.
func NewClients(cfg aws.Config, s3PathStyle bool) *Clients {
	return &Clients{
		SageMaker: sagemaker.NewFromConfig(cfg),
		S3:        s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = s3PathStyle }),
		Logs:      cloudwatchlogs.NewFromConfig(cfg),
	}
}

// StaticTestConfig is an aws.Config for local test servers: static fake
// credentials, a region, one attempt per call, the endpoint given.
func StaticTestConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLAUNCHERTEST", "launcher-test-secret-key", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
		HTTPClient:       http.DefaultClient,
	}
}

// dryRunRecorder is an HTTP client that records request bodies instead of
// sending them, so --dry-run prints exactly what the SDK would send.
type dryRunRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *dryRunRecorder) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, canonicalJSON(body))
	r.mu.Unlock()
	op := req.Header.Get("X-Amz-Target")
	resp := "{}"
	switch {
	case strings.HasSuffix(op, ".CreateTrainingJob"):
		resp = `{"TrainingJobArn":"arn:aws:sagemaker:us-east-1:000000000000:training-job/dry-run"}`
	case strings.HasSuffix(op, ".CreateHyperParameterTuningJob"):
		resp = `{"HyperParameterTuningJobArn":"arn:aws:sagemaker:us-east-1:000000000000:hyper-parameter-tuning-job/dry-run"}`
	}
	return dryRunResponse(req, resp), nil
}

// dryRunResponse is a successful JSON answer to req made up offline.
func dryRunResponse(req *http.Request, body string) *http.Response {
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: req,
	}
}

// dryRunClient is a SageMaker client whose requests end in hc; it needs no AWS
// configuration and sends nothing.
func dryRunClient(hc sagemaker.HTTPClient) *sagemaker.Client {
	return sagemaker.New(sagemaker.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("DRYRUN", "DRYRUN", ""),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String("http://dry-run.invalid"),
		RetryMaxAttempts: 1,
	})
}

// apiErrorCode returns the AWS error code of err, or "".
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// canonicalJSON re-encodes a JSON document compactly with sorted object keys
// (the SDK writes maps in random order), keeping numbers exactly as written.
func canonicalJSON(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return b
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}
