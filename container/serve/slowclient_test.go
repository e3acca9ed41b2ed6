package serve_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
)

// slowConn opens a connection and sends an invocation's headers and the first bytes
// of its body, then nothing more; chunked when length < 0.
func slowConn(t *testing.T, url string, length int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if length < 0 {
		fmt.Fprintf(conn, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"cases\":\r\n")
	} else {
		fmt.Fprintf(conn, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"cases\":", length)
	}
	return conn
}

// S1: a chunked body is charged as it arrives, not at the most it may send: five
// slow chunked bodies no longer fill the memory budget against a 2 MiB request.
func TestSlowChunkedBodiesDoNotFillTheBudget(t *testing.T) {
	ts := startLoaded(t, newFake())
	for range 5 {
		slowConn(t, ts.url, -1)
	}
	time.Sleep(200 * time.Millisecond) // let the server admit them
	body := manyCases(2 << 20 / 21)
	if a := post(t, ts.url, "application/json", body); a.status != http.StatusOK {
		t.Fatalf("2 MiB request beside five slow chunked bodies: %d %.200s", a.status, a.body)
	}
}

// S1: a client that trickles its body loses its place within seconds (408), not at
// the 50 s request deadline, so slow clients cannot lock every caller out.
func TestSlowBodyCutOff(t *testing.T) {
	ts := startLoaded(t, newFake(), serve.WithMaxInflight(2))
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range 2 {
		conn := slowConn(t, ts.url, 100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if a := post(t, ts.url, "application/json", manyCases(1)); a.status != http.StatusServiceUnavailable {
		t.Fatalf("while two slow clients hold both places: %d, want 503", a.status)
	}
	wg.Wait()
	took := time.Since(start)
	for _, s := range statuses {
		if s != http.StatusRequestTimeout {
			t.Errorf("slow client answered %d, want 408", s)
		}
	}
	if took > 8*time.Second {
		t.Errorf("slow clients held their places %v; want about 5 s", took)
	}
	if a := post(t, ts.url, "application/json", manyCases(1)); a.status != http.StatusOK {
		t.Errorf("after the slow clients were cut off: %d %s", a.status, a.body)
	}
	t.Logf("slow clients cut off after %v", took)
}

// C1: the cases, predictions and answer are charged once the body is read: a body of
// many tiny cases that needs the whole budget runs alone, and a second one at the same
// time is refused with 503 instead of doubling the memory.
func TestManyTinyCasesCharged(t *testing.T) {
	m := newFake()
	m.delay = 3 * time.Millisecond // per 64 cases: the first request predicts for about 1 s
	// Two of these bodies fit the budget (3.2 MB charged each), their cases (about 20 MB
	// each) do not.
	ts := startLoaded(t, m, serve.WithMemoryBudget(16<<20))
	body := manyCases(20_000)
	first := make(chan answer, 1)
	calls := m.calls.Load()
	go func() { first <- post(t, ts.url, "application/json", body) }()
	for deadline := time.Now().Add(10 * time.Second); m.calls.Load() == calls; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first request did not reach the model")
		}
	}
	a := post(t, ts.url, "application/json", body)
	if a.status != http.StatusServiceUnavailable {
		t.Errorf("second request of many cases: %d %.200s, want 503", a.status, a.body)
	}
	if a := <-first; a.status != http.StatusOK || bytes.Count(a.body, []byte(`"post"`)) != 20_000 {
		t.Errorf("first request: %d, %d answers", a.status, bytes.Count(a.body, []byte(`"post"`)))
	}
}
