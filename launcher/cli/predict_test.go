package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// deployed returns a harness with endpoint "ep" InService, serving through the real
// serve handler.
func deployed(t *testing.T) *harness {
	t.Helper()
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	if r := h.run("deploy", testModelTar, "--name", "ep", "--image", testImage, "--role", testRole); r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.stderr)
	}
	return h
}

func TestPredictJSONAndCSV(t *testing.T) {
	h := deployed(t)
	t.Run("json", func(t *testing.T) {
		r := h.run("predict", "ep", "--input", filepath.Join("testdata", "predict-cases.json"))
		if r.err != nil {
			t.Fatalf("predict: %v\n%s", r.err, r.stderr)
		}
		var resp struct {
			ModelVersion string `json:"model_version"`
			Predictions  []struct {
				ID   string
				Post map[string]float32
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
			t.Fatalf("answer is not JSON: %v\n%s", err, r.stdout)
		}
		// the stand-in model answers pre ph + number of prescriptions, and twice that
		if resp.ModelVersion != "sha256:test" || len(resp.Predictions) != 2 ||
			resp.Predictions[0].ID != "a" || resp.Predictions[0].Post["ph"] != float32(7.3)+2 || resp.Predictions[1].Post["lactate"] != 2 {
			t.Fatalf("answer %+v", resp)
		}
		if n, ct, acc := h.srv.EndpointInvocations("ep"); n != 1 || ct != "application/json" || acc != "application/json" {
			t.Fatalf("invocations %d %q %q", n, ct, acc)
		}
	})
	t.Run("csv to a file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "answer.csv")
		r := h.run("predict", "ep", "--input", filepath.Join("testdata", "predict-cases.csv"), "--output", out)
		if r.err != nil {
			t.Fatalf("predict: %v\n%s", r.err, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want := "subject_id,prescription_start,post_ph,post_lactate\n10013,2125-10-05,9.3,18.6\n10014,2130-01-02,1,2\n"
		if string(b) != want {
			t.Fatalf("answer:\n%s\nwant:\n%s", b, want)
		}
		if r.stdout != "" || !strings.Contains(r.stderr, "wrote "+out) {
			t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
		}
	})
	t.Run("stdin with content type", func(t *testing.T) {
		var out, errb bytes.Buffer
		e := h.env(&out, &errb)
		e.Stdin = strings.NewReader(`{"prescriptions":[{"drug":"x","dose":1,"unit":"mg"}]}`)
		if err := e.Run(context.Background(), []string{"predict", "ep", "--input", "-", "--content-type", "application/json"}); err != nil {
			t.Fatalf("predict: %v", err)
		}
		if !strings.Contains(out.String(), `"post":{"ph":1,"lactate":2}`) {
			t.Fatalf("answer %s", out.String())
		}
	})
}

func TestPredictErrors(t *testing.T) {
	h := deployed(t)
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), maxInvokeBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"no endpoint", []string{"predict", "--input", "x.json"}, "exactly one endpoint name", ExitUsage},
		{"no input", []string{"predict", "ep"}, "--input is required", ExitUsage},
		{"unknown extension", []string{"predict", "ep", "--input", "cases.txt"}, "name it .json or .csv or pass --content-type", ExitUsage},
		{"bad content type", []string{"predict", "ep", "--input", "cases.txt", "--content-type", "text/plain"}, "--content-type \"text/plain\"", ExitUsage},
		{"missing file", []string{"predict", "ep", "--input", "nope.json"}, "--input \"nope.json\": no such file", ExitUsage},
		{"empty file", []string{"predict", "ep", "--input", empty}, "empty", ExitUsage},
		{"too large", []string{"predict", "ep", "--input", big}, "at most 6 MB", ExitUsage},
		{"model rejects the case", []string{"predict", "ep", "--input", filepath.Join("testdata", "predict-bad.json")},
			`endpoint ep: the model answered 400: cases[0].pre.lactat: unknown analyte "lactat"`, ExitFailure},
		{"missing endpoint", []string{"predict", "ghost", "--input", filepath.Join("testdata", "predict-cases.json")},
			"invoke endpoint ghost", ExitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run(tc.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || ExitCode(r.err) != tc.code {
				t.Fatalf("err %v (exit %d), want exit %d containing %q", r.err, ExitCode(r.err), tc.code, tc.want)
			}
		})
	}
}

func TestRuntimeClientEndpoint(t *testing.T) {
	h := newHostingHarness(t, sagemakertest.EndpointOptions{})
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"global override (tests, AWS_ENDPOINT_URL)", nil, h.srv.URL},
		{"runtime override", map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "http://127.0.0.1:1"}, "http://127.0.0.1:1"},
		{"sagemaker-only override does not apply", map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER": h.srv.URL}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := h.env(&bytes.Buffer{}, &bytes.Buffer{})
			e.Getenv = func(k string) string { return tc.env[k] }
			got := e.runtimeClient(h.clients).Options().BaseEndpoint
			if (got == nil && tc.want != "") || (got != nil && *got != tc.want) {
				t.Fatalf("BaseEndpoint %v, want %q", got, tc.want)
			}
		})
	}
}

func TestPredictDryRun(t *testing.T) {
	h := deployed(t)
	in := filepath.Join("testdata", "predict-cases.json")
	r := h.run("predict", "ep", "--input", in, "--dry-run")
	if r.err != nil {
		t.Fatalf("predict --dry-run: %v\n%s", r.err, r.stderr)
	}
	want, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("want one JSON line, got %q", r.stdout)
	}
	var req map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &req); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if req["EndpointName"] != "ep" || req["ContentType"] != "application/json" || req["Accept"] != "application/json" || req["Body"] != string(want) || len(req) != 4 {
		t.Fatalf("request %v", req)
	}
	if n, _, _ := h.srv.EndpointInvocations("ep"); n != 0 {
		t.Fatalf("dry run invoked the endpoint %d times", n)
	}
	// validation still happens first
	if r := h.run("predict", "ep", "--input", "nope.json", "--dry-run"); ExitCode(r.err) != ExitUsage {
		t.Fatalf("missing input with --dry-run: %v", r.err)
	}
}
