package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// maxInvokeBytes is InvokeEndpoint's payload limit for real-time endpoints.
const maxInvokeBytes = 6 << 20

type predictCmd struct {
	e           *Env
	input       string
	output      string
	contentType string
	dryRun      bool
	trace       invokeTrace
}

func newPredict(e *Env, fs *flag.FlagSet) unit {
	c := &predictCmd{e: e}
	fs.StringVar(&c.input, "input", "", "cases to predict: a .json or .csv file, or - for stdin (required)")
	fs.StringVar(&c.output, "output", "", "write the answer to this file (default: stdout)")
	fs.StringVar(&c.contentType, "content-type", "", "application/json or text/csv (default: from the --input extension)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the InvokeEndpoint request as JSON (the body as a string) and call nothing")
	c.trace.register(fs)
	return c
}

func (c *predictCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("predict needs exactly one endpoint name")
	}
	endpoint := args[0]
	if err := checkName("endpoint name", endpoint, false); err != nil {
		return err
	}
	if c.input == "" {
		return usageError("--input is required: a .json or .csv file of cases, or - for stdin")
	}
	ct, err := c.resolveContentType()
	if err != nil {
		return err
	}
	if err := c.trace.check(); err != nil {
		return err
	}
	body, err := c.readInput()
	if err != nil {
		return err
	}
	if c.dryRun {
		// InvokeEndpoint is REST: the name goes in the path, the types in headers and
		// the cases as the raw body; shown with the API's member names.
		req := map[string]string{"EndpointName": endpoint, "ContentType": ct, "Accept": ct, "Body": string(body)}
		c.trace.dryRun(req)
		return printJSONLine(c.e.Stdout, req)
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	rt := c.e.runtimeClient(cl)
	var out *sagemakerruntime.InvokeEndpointOutput
	err = c.e.newBackoff().do(ctx, endpoint, func() error {
		var err error
		in := &sagemakerruntime.InvokeEndpointInput{
			EndpointName: aws.String(endpoint), ContentType: aws.String(ct), Accept: aws.String(ct), Body: body}
		c.trace.apply(in)
		out, err = rt.InvokeEndpoint(ctx, in)
		return err
	})
	if err != nil {
		return invokeError(endpoint, err)
	}
	if a := aws.ToString(out.CustomAttributes); a != "" {
		fmt.Fprintf(c.e.Stderr, "custom attributes: %s\n", a)
	}
	answer := out.Body
	if len(answer) > 0 && answer[len(answer)-1] != '\n' {
		answer = append(answer, '\n')
	}
	if c.output == "" {
		_, err := c.e.Stdout.Write(answer)
		return err
	}
	if err := atomicfile.Write(c.output, func(w io.Writer) error { _, err := w.Write(answer); return err }); err != nil {
		return err
	}
	fmt.Fprintf(c.e.Stderr, "wrote %s (%d bytes, %s)\n", c.output, len(answer), aws.ToString(out.ContentType))
	return nil
}

func (c *predictCmd) resolveContentType() (string, error) {
	switch c.contentType {
	case "application/json", "text/csv":
		return c.contentType, nil
	case "":
	default:
		return "", usagef("--content-type %q: expected application/json or text/csv", c.contentType)
	}
	switch strings.ToLower(filepath.Ext(c.input)) {
	case ".json":
		return "application/json", nil
	case ".csv":
		return "text/csv", nil
	}
	return "", usagef("--input %q: cannot tell JSON from CSV by its name; name it .json or .csv or pass --content-type", c.input)
}

func (c *predictCmd) readInput() ([]byte, error) {
	var r io.Reader
	switch c.input {
	case "-":
		r = c.e.Stdin
	default:
		f, err := os.Open(c.input)
		if err != nil {
			return nil, usagef("--input %q: %v", c.input, errors.Unwrap(err))
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, maxInvokeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read --input %s: %w", c.input, err)
	}
	switch {
	case len(body) > maxInvokeBytes:
		return nil, usagef("--input %q: more than %d bytes; InvokeEndpoint takes at most 6 MB, split the cases", c.input, maxInvokeBytes)
	case len(bytes.TrimSpace(body)) == 0:
		return nil, usagef("--input %q: empty", c.input)
	}
	return body, nil
}

// printJSONLine writes v as one compact JSON line with sorted keys.
func printJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", canonicalJSON(b))
	return err
}

// invokeError explains InvokeEndpoint failures: the container's own answer for a
// ModelError (the server names the bad field), the service's message otherwise.
func invokeError(endpoint string, err error) error {
	var me *rttypes.ModelError
	if errors.As(err, &me) {
		msg := aws.ToString(me.OriginalMessage)
		var body struct{ Error string }
		if json.Unmarshal([]byte(msg), &body) == nil && body.Error != "" {
			msg = body.Error
		}
		return fmt.Errorf("endpoint %s: the model answered %d: %s", endpoint, aws.ToInt32(me.OriginalStatusCode), oneLine(msg))
	}
	return fmt.Errorf("invoke endpoint %s: %w", endpoint, err)
}

// runtimeClient builds the SageMaker runtime client from the SageMaker client's
// settings (region, credentials, HTTP client, retries). An endpoint override applies
// when it is the runtime's own (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME) or a global one
// (AWS_ENDPOINT_URL, or a test configuration); a SageMaker-only override does not,
// since the runtime is a different service host.
func (e *Env) runtimeClient(c *Clients) *sagemakerruntime.Client {
	o := c.SageMaker.Options()
	ro := sagemakerruntime.Options{
		Region:           o.Region,
		Credentials:      o.Credentials,
		HTTPClient:       o.HTTPClient,
		RetryMaxAttempts: o.RetryMaxAttempts,
		RetryMode:        o.RetryMode,
		Logger:           o.Logger,
		AppID:            o.AppID,
	}
	switch {
	case e.Getenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME") != "":
		ro.BaseEndpoint = aws.String(e.Getenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"))
	case e.Getenv("AWS_ENDPOINT_URL_SAGEMAKER") == "" && o.BaseEndpoint != nil:
		ro.BaseEndpoint = o.BaseEndpoint
	}
	return sagemakerruntime.New(ro)
}
