package serve_test

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/model"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    serve.Config
		wantErr string
	}{
		{"defaults", nil, nil, serve.Config{ModelDir: "/opt/ml/model", Addr: ":8080", MaxBodyBytes: 6 << 20}, ""},
		{"sagemaker env", nil, map[string]string{"SAGEMAKER_BIND_TO_PORT": "9090", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20", "SAGEMAKER_MODEL_SERVER_WORKERS": "3"},
			serve.Config{ModelDir: "/opt/ml/model", Addr: ":9090", MaxBodyBytes: 20 << 20, MaxConcurrency: 3}, ""},
		{"flags win", []string{"--model", "/tmp/m", "--host", "127.0.0.1", "--port", "0", "--workers", "2"}, map[string]string{"SAGEMAKER_BIND_TO_PORT": "9090"},
			serve.Config{ModelDir: "/tmp/m", Addr: "127.0.0.1:0", MaxBodyBytes: 6 << 20, MaxConcurrency: 2}, ""},
		{"admission env", nil, map[string]string{"BLUEBLOOD_SERVE_MAX_INFLIGHT": "8", "BLUEBLOOD_SERVE_MEMORY_MB": "512"},
			serve.Config{ModelDir: "/opt/ml/model", Addr: ":8080", MaxBodyBytes: 6 << 20, MaxInflight: 8, MemoryBudget: 512 << 20}, ""},
		{"admission flags win", []string{"--max-inflight", "3", "--memory-budget-mb", "64"}, map[string]string{"BLUEBLOOD_SERVE_MAX_INFLIGHT": "8"},
			serve.Config{ModelDir: "/opt/ml/model", Addr: ":8080", MaxBodyBytes: 6 << 20, MaxInflight: 3, MemoryBudget: 64 << 20}, ""},
		// SageMaker sets "true" in batch transform, the Python SDK's local mode "True"
		{"batch transform", nil, map[string]string{"SAGEMAKER_BATCH": "True"},
			serve.Config{ModelDir: "/opt/ml/model", Addr: ":8080", MaxBodyBytes: 6 << 20, Batch: true}, ""},
		{"bad batch env", nil, map[string]string{"SAGEMAKER_BATCH": "yes"}, serve.Config{}, `SAGEMAKER_BATCH="yes": expected true or false`},
		{"bad inflight env", nil, map[string]string{"BLUEBLOOD_SERVE_MAX_INFLIGHT": "0"}, serve.Config{}, `BLUEBLOOD_SERVE_MAX_INFLIGHT="0": expected an integer`},
		{"bad budget env", nil, map[string]string{"BLUEBLOOD_SERVE_MEMORY_MB": "lots"}, serve.Config{}, `BLUEBLOOD_SERVE_MEMORY_MB="lots": expected megabytes`},
		{"negative budget flag", []string{"--memory-budget-mb", "-1"}, nil, serve.Config{}, "expected 0 or more"},
		{"bad port env", nil, map[string]string{"SAGEMAKER_BIND_TO_PORT": "http"}, serve.Config{}, `SAGEMAKER_BIND_TO_PORT="http": expected a port number`},
		{"bad payload env", nil, map[string]string{"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0"}, serve.Config{}, "SAGEMAKER_MAX_PAYLOAD_IN_MB=\"0\": expected megabytes"},
		{"bad workers env", nil, map[string]string{"SAGEMAKER_MODEL_SERVER_WORKERS": "-1"}, serve.Config{}, "SAGEMAKER_MODEL_SERVER_WORKERS=\"-1\""},
		{"unknown flag", []string{"--verbose"}, nil, serve.Config{}, "flag provided but not defined: -verbose"},
		{"stray argument", []string{"extra"}, nil, serve.Config{}, `unexpected arguments ["extra"]`},
		{"port out of range", []string{"--port", "70000"}, nil, serve.Config{}, "--port 70000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := serve.ParseArgs(tc.args, "/opt/ml", func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRunServesAndStops(t *testing.T) {
	dir, _ := trainTiny(t, model.ArchPooledResidual)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg, err := serve.ParseArgs([]string{"--model", dir, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, "/unused", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, cfg, &logs) }()
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	waitReady(t, url)
	if a := post(t, url, "application/json", []byte(`{"prescriptions":[{"drug":"Heparin","dose":5000,"unit":"UNIT"}]}`)); a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	for _, want := range []string{"model loaded", "shutting down"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func TestRunFailsOnMissingModel(t *testing.T) {
	cfg := serve.Config{ModelDir: t.TempDir(), Addr: "127.0.0.1:0", MaxBodyBytes: 1 << 20}
	err := serve.Run(context.Background(), cfg, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "load model") {
		t.Fatalf("Run = %v, want a load error", err)
	}
}
