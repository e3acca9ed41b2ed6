package serve_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
)

// TestSageMakerServingEnv: SAGEMAKER_MODEL_SERVER_TIMEOUT sets the request deadline,
// never beyond what the platform waits (60 s real-time, 3600 s batch);
// SAGEMAKER_MAX_CONCURRENT_TRANSFORMS makes room for that many requests of the
// largest payload.
func TestSageMakerServingEnv(t *testing.T) {
	payload6 := serve.BodyCost(6 << 20)
	tests := []struct {
		name     string
		env      map[string]string
		timeout  time.Duration
		inflight int
		budget   int64
		note     string
		err      string
	}{
		{"timeout", map[string]string{"SAGEMAKER_MODEL_SERVER_TIMEOUT": "30"}, 30 * time.Second, 0, 0, "", ""},
		{"timeout over real-time limit", map[string]string{"SAGEMAKER_MODEL_SERVER_TIMEOUT": "120"}, 60 * time.Second, 0, 0, "over the platform's 1m0s", ""},
		{"batch timeout", map[string]string{"SAGEMAKER_MODEL_SERVER_TIMEOUT": "600", "SAGEMAKER_BATCH": "true"}, 600 * time.Second, 0, 0, "", ""},
		{"batch timeout over limit", map[string]string{"SAGEMAKER_MODEL_SERVER_TIMEOUT": "7200", "SAGEMAKER_BATCH": "true"}, time.Hour, 0, 0, "over the platform's 1h0m0s", ""},
		{"bad timeout", map[string]string{"SAGEMAKER_MODEL_SERVER_TIMEOUT": "soon"}, 0, 0, 0, "", `SAGEMAKER_MODEL_SERVER_TIMEOUT="soon"`},
		{"zero timeout", map[string]string{"SAGEMAKER_MODEL_SERVER_TIMEOUT": "0"}, 0, 0, 0, "", "expected whole seconds"},
		{"concurrent transforms", map[string]string{"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "100"}, 0, 100, 100 * payload6, "", ""},
		{"few concurrent transforms keep the defaults", map[string]string{"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "2"}, 0, serve.DefaultMaxInflight, serve.DefaultMemoryBudget, "", ""},
		{"concurrent transforms raise our own limits", map[string]string{"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "16", "BLUEBLOOD_SERVE_MAX_INFLIGHT": "4", "BLUEBLOOD_SERVE_MEMORY_MB": "1"}, 0, 16, 16 * payload6, "", ""},
		{"bad concurrent transforms", map[string]string{"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "0"}, 0, 0, 0, "", `SAGEMAKER_MAX_CONCURRENT_TRANSFORMS="0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := serve.ParseArgs(nil, "/opt/ml", func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.RequestTimeout != tc.timeout || cfg.MaxInflight != tc.inflight || cfg.MemoryBudget != tc.budget || !strings.Contains(cfg.Note, tc.note) {
				t.Fatalf("timeout %v inflight %d budget %d note %q; want %v %d %d %q", cfg.RequestTimeout, cfg.MaxInflight, cfg.MemoryBudget, cfg.Note,
					tc.timeout, tc.inflight, tc.budget, tc.note)
			}
		})
	}
}

// TestConcurrentTransformsAdmitted: a server configured from
// SAGEMAKER_MAX_CONCURRENT_TRANSFORMS takes that many requests at once without 503.
func TestConcurrentTransformsAdmitted(t *testing.T) {
	const n = 12
	cfg, err := serve.ParseArgs(nil, "/opt/ml", func(k string) string {
		return map[string]string{"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "12", "BLUEBLOOD_SERVE_MAX_INFLIGHT": "2"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	m := newFake()
	m.delay = 100 * time.Millisecond
	ts := startLoaded(t, m, serve.WithMaxInflight(cfg.MaxInflight), serve.WithMemoryBudget(cfg.MemoryBudget), serve.WithMaxConcurrency(1))
	body := []byte(`{"prescriptions":[{"drug":"x","dose":1,"unit":"mg"}]}`)
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = post(t, ts.url, "application/json", body).status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: %d", i, s)
		}
	}
}

// TestTraceHeaders: custom attributes come back on answers and errors alike; the
// inference id is logged with the request.
func TestTraceHeaders(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	ts := startLoaded(t, newFake(), serve.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))))
	for _, tc := range []struct {
		ct     string
		status int
	}{{"application/json", http.StatusOK}, {"image/png", http.StatusUnsupportedMediaType}} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/invocations", strings.NewReader(`{"prescriptions":[{"drug":"x","dose":1,"unit":"mg"}]}`))
		req.Header.Set("Content-Type", tc.ct)
		req.Header.Set("X-Amzn-SageMaker-Custom-Attributes", "ward=icu;trace=9f2")
		req.Header.Set("X-Amzn-SageMaker-Inference-Id", "adm-0042")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-SageMaker-Custom-Attributes") != "ward=icu;trace=9f2" {
			t.Errorf("%s: status %d, custom attributes %q", tc.ct, resp.StatusCode, resp.Header.Get("X-Amzn-SageMaker-Custom-Attributes"))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Count(logs.String(), "inference_id=adm-0042") != 2 {
		t.Errorf("log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "ward=icu") {
		t.Errorf("custom attributes are opaque and stay out of the log:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
