package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
)

// manyCases is a JSON request of n cases without prescriptions.
func manyCases(n int) []byte {
	return []byte(`{"cases":[` + strings.TrimSuffix(strings.Repeat(`{"prescriptions":[]},`, n), ",") + `]}`)
}

// rawRequest sends an invocation's headers declaring a body of length bytes and only the
// first sent bytes of it, and returns the status and Retry-After the server answers
// within 2 s.
func rawRequest(t *testing.T, url string, length int, sent []byte) (status int, retryAfter string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", length)
	conn.Write(sent)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within 2 s while the body is still being sent: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestAdmissionBeforeReading: a request that does not fit the in-flight bound or the
// memory budget is refused with 503 and Retry-After before its body is read (here the
// body never comes), and one that fits again is served.
func TestAdmissionBeforeReading(t *testing.T) {
	m := newFake()
	m.delay = 400 * time.Millisecond
	body := manyCases(2)
	tests := []struct {
		name string
		opts []serve.Option
		size int // declared size of the refused request
	}{
		{"in-flight bound", []serve.Option{serve.WithMaxInflight(1)}, len(body)},
		// the first request's estimated cost leaves too little for a 100 kB body
		{"memory budget", []serve.Option{serve.WithMemoryBudget(int64(serve.BodyCost(100_000)))}, 100_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startLoaded(t, m, tc.opts...)
			calls := m.calls.Load()
			first := make(chan answer, 1)
			go func() { first <- post(t, ts.url, "application/json", body) }()
			for deadline := time.Now().Add(5 * time.Second); m.calls.Load() == calls; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the first request did not reach the model within 5 s")
				}
			}
			status, retry := rawRequest(t, ts.url, tc.size, []byte(`{"cases":`))
			if status != http.StatusServiceUnavailable || retry == "" {
				t.Fatalf("second request: %d with Retry-After %q, want 503 with Retry-After", status, retry)
			}
			if a := <-first; a.status != http.StatusOK {
				t.Fatalf("first request: %d %s", a.status, a.body)
			}
			if a := post(t, ts.url, "application/json", body); a.status != http.StatusOK {
				t.Fatalf("request after the first finished: %d %s", a.status, a.body)
			}
		})
	}
}

// TestClientGoneStopsWork: when the client goes, prediction stops at the next batch
// instead of running the whole request.
func TestClientGoneStopsWork(t *testing.T) {
	m := newFake()
	m.delay = 300 * time.Millisecond // per Predict call
	ts := startLoaded(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/invocations", bytes.NewReader(manyCases(640)))
	req.Header.Set("Content-Type", "application/json")
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("request answered %d, want the client's cancellation", resp.StatusCode)
	}
	time.Sleep(1500 * time.Millisecond) // what the server does after the client has gone
	m.mu.Lock()
	predicted := 0
	for _, s := range m.seen {
		predicted += len(s)
	}
	m.mu.Unlock()
	if predicted >= 640 {
		t.Fatalf("the model predicted %d of 640 cases after the client had gone; want it to stop early", predicted)
	}
}

// TestRequestDeadline: a request that cannot finish within the deadline gets 503 at the
// deadline, not a late answer.
func TestRequestDeadline(t *testing.T) {
	m := newFake()
	m.delay = 300 * time.Millisecond // per Predict call
	ts := startLoaded(t, m, serve.WithRequestTimeout(200*time.Millisecond))
	start := time.Now()
	a := post(t, ts.url, "application/json", manyCases(640))
	took := time.Since(start)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Fatalf("status %d after %v, want 503 with Retry-After", a.status, took)
	}
	if !strings.Contains(a.errorText(t), "deadline") {
		t.Errorf("error %q, want it to name the deadline", a.errorText(t))
	}
	if took > time.Second {
		t.Errorf("answered after %v; want soon after the 200 ms deadline", took)
	}
}

func TestDefaultDeadlineUnderSageMakers(t *testing.T) {
	if serve.DefaultRequestTimeout >= 60*time.Second {
		t.Fatalf("DefaultRequestTimeout %v; SageMaker gives up after 60 s", serve.DefaultRequestTimeout)
	}
}
