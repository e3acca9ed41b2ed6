//go:build loadtest

package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/model"
)

// The load test runs the server in a child process (this test binary, re-executed) so
// its memory is measured alone, then drives it from many clients at once:
//
//	go test -tags loadtest -run '^TestLoad$' -v -timeout 10m ./container/serve/
var (
	loadClients  = flag.Int("load.clients", 200, "concurrent clients")
	loadDuration = flag.Duration("load.duration", 30*time.Second, "how long clients send requests")
	loadKillRSS  = flag.Int64("load.kill-rss-mb", 4096, "stop the server when its RSS passes this (protects the machine)")
	loadArgs     = flag.String("load.serve-args", "", "extra `serve` flags for the server, space-separated")
)

const (
	envLoadDir  = "BLUEBLOOD_LOAD_MODEL"
	envLoadPort = "BLUEBLOOD_LOAD_PORT"
	envLoadArgs = "BLUEBLOOD_LOAD_ARGS"
)

// TestLoadServerProcess is the child: it serves until SIGTERM. It skips unless started by
// TestLoad.
func TestLoadServerProcess(t *testing.T) {
	dir := os.Getenv(envLoadDir)
	if dir == "" {
		t.Skip("started by TestLoad only")
	}
	args := []string{"--model", dir, "--host", "127.0.0.1", "--port", os.Getenv(envLoadPort)}
	args = append(args, strings.Fields(os.Getenv(envLoadArgs))...)
	cfg, err := serve.ParseArgs(args, "/unused", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := serve.Run(ctx, cfg, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// largestRequest is the largest request the documented limits allow: cases of 256
// prescriptions (the limit for a model trained without max_prescriptions) with every
// analyte and 128-wide embeddings, as many as fit in the 6 MB body limit. Embedding
// values are short numbers, so the body holds as many values as it can.
func largestRequest() (body []byte, cases int) {
	var rx bytes.Buffer
	for k := 0; k < serve.DefaultMaxPrescriptions; k++ {
		if k > 0 {
			rx.WriteByte(',')
		}
		rx.WriteString(`{"embedding":[`)
		for d := 0; d < 128; d++ {
			if d > 0 {
				rx.WriteByte(',')
			}
			rx.WriteString([]string{"0", "1", "0.5", "-1"}[(k+d)%4])
		}
		fmt.Fprintf(&rx, `],"dose":%d,"unit":"7"}`, k%50)
	}
	var pre strings.Builder
	for i, a := range fullAnalytes {
		if i > 0 {
			pre.WriteByte(',')
		}
		fmt.Fprintf(&pre, "%q:%d", a, i%7)
	}
	var b bytes.Buffer
	b.WriteString(`{"cases":[`)
	for {
		c := fmt.Sprintf(`{"id":"c%d","pre":{%s},"prescriptions":[%s]}`, cases, pre.String(), rx.Bytes())
		if b.Len()+len(c)+3 > serve.DefaultMaxBodyBytes {
			break
		}
		if cases > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c)
		cases++
	}
	b.WriteString(`]}`)
	return b.Bytes(), cases
}

// procStat reads a process's resident memory (bytes) and CPU time used.
func procStat(pid int) (rss int64, cpu time.Duration, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			rss = kb << 10
		}
	}
	f.Close()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// fields after the command name's closing parenthesis; utime and stime are 14 and 15
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return rss, time.Duration(ut+st) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// TestLoad: the clients send the largest request for the load duration, each waiting for
// its answer (at most 60 s, SageMaker's invocation timeout) and honouring Retry-After on
// 503; a pinger calls /ping every 100 ms with the health check's 2 s timeout. Targets:
// peak RSS < 1 GiB, /ping p99 < 500 ms, no answer later than 60 s, RSS under 200 MB within
// 10 s after the last client is gone.
func TestLoad(t *testing.T) {
	dir := productionModel(t, model.ArchPooledResidual)
	port := freePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	var serverLog bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadServerProcess$")
	cmd.Env = append(os.Environ(), envLoadDir+"="+dir, envLoadPort+"="+strconv.Itoa(port), envLoadArgs+"="+*loadArgs)
	cmd.Stdout, cmd.Stderr = &serverLog, &serverLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log (tail):\n%s", tail(serverLog.String(), 3000))
		}
	}()
	waitReady(t, url)

	body, cases := largestRequest()
	idleRSS, _, err := procStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("request: %d cases x %d prescriptions, %d bytes; %d clients for %v; server idle RSS %s",
		cases, serve.DefaultMaxPrescriptions, len(body), *loadClients, *loadDuration, mb(idleRSS))

	// RSS sampler; it stops the server if it passes the kill limit
	var mu sync.Mutex
	var peak int64
	killed := false
	var killedAt time.Duration
	loadStart := time.Now()
	samplerDone := make(chan struct{})
	stopSampler := make(chan struct{})
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampler:
				return
			case <-tick.C:
			}
			rss, _, err := procStat(pid)
			if err != nil {
				return
			}
			mu.Lock()
			peak = max(peak, rss)
			if rss > *loadKillRSS<<20 && !killed {
				killed, killedAt = true, time.Since(loadStart)
				cmd.Process.Kill()
			}
			mu.Unlock()
		}
	}()

	// pinger
	var pings []time.Duration
	pingFail := 0
	stopPing := make(chan struct{})
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		pc := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-stopPing:
				return
			case <-time.After(100 * time.Millisecond):
			}
			t0 := time.Now()
			resp, err := pc.Get(url + "/ping")
			d := time.Since(t0)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			pings = append(pings, d)
			if err != nil || resp.StatusCode != http.StatusOK {
				pingFail++
			}
			mu.Unlock()
		}
	}()

	// clients
	statuses := map[string]int{}
	var lat []time.Duration
	late := 0
	tr := &http.Transport{MaxIdleConnsPerHost: *loadClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	start := time.Now()
	end := start.Add(*loadDuration)
	var wg sync.WaitGroup
	for range *loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				t0 := time.Now()
				resp, err := client.Post(url+"/invocations", "application/json", bytes.NewReader(body))
				d := time.Since(t0)
				wait := time.Duration(0)
				key := ""
				if err != nil {
					key = "error"
					if strings.Contains(err.Error(), "Client.Timeout") {
						key = "no answer in 60 s"
					}
					wait = 100 * time.Millisecond
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					key = strconv.Itoa(resp.StatusCode)
					if resp.StatusCode == http.StatusServiceUnavailable {
						wait = time.Second
						if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
							wait = time.Duration(s) * time.Second
						}
					}
				}
				mu.Lock()
				statuses[key]++
				if err == nil {
					lat = append(lat, d)
				}
				if d >= 60*time.Second {
					late++
				}
				mu.Unlock()
				time.Sleep(wait)
			}
		}()
	}
	wg.Wait()
	loadEnd := time.Now()
	close(stopPing)
	<-pingDone
	tr.CloseIdleConnections()

	// after the load: how fast RSS comes back, and whether work goes on
	_, cpuAtEnd, _ := procStat(pid)
	backUnder := time.Duration(-1)
	var rssAfter int64
	for time.Since(loadEnd) < 10*time.Second {
		rss, _, err := procStat(pid)
		if err != nil {
			break
		}
		rssAfter = rss
		if rss < 200e6 && backUnder < 0 {
			backUnder = time.Since(loadEnd)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, cpuAfter, _ := procStat(pid)
	close(stopSampler)
	<-samplerDone

	mu.Lock()
	defer mu.Unlock()
	var keys []string
	for k, n := range statuses {
		keys = append(keys, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(keys)
	t.Logf("load ran %v; answers %s", loadEnd.Sub(start).Round(time.Second), strings.Join(keys, ", "))
	t.Logf("answer latency p50 %v p99 %v max %v; answers at or past 60 s: %d",
		percentile(lat, 0.5).Round(time.Millisecond), percentile(lat, 0.99).Round(time.Millisecond), percentile(lat, 1).Round(time.Millisecond), late)
	t.Logf("/ping: %d calls, p50 %v p99 %v max %v, %d failed",
		len(pings), percentile(pings, 0.5).Round(time.Millisecond), percentile(pings, 0.99).Round(time.Millisecond), percentile(pings, 1).Round(time.Millisecond), pingFail)
	if killed {
		t.Logf("server RSS: idle %s, passed the %d MB limit after %v and was killed", mb(idleRSS), *loadKillRSS, killedAt.Round(100*time.Millisecond))
	} else {
		t.Logf("server RSS: idle %s, peak %s; 10 s after the load %s (under 200 MB after %v); CPU used in those 10 s: %v",
			mb(idleRSS), mb(peak), mb(rssAfter), backUnder.Round(100*time.Millisecond), (cpuAfter - cpuAtEnd).Round(10*time.Millisecond))
	}

	if killed || peak >= 1<<30 {
		t.Errorf("peak RSS %s, want < 1 GiB", mb(peak))
	}
	if p := percentile(pings, 0.99); p >= 500*time.Millisecond {
		t.Errorf("/ping p99 %v, want < 500 ms", p)
	}
	if late > 0 {
		t.Errorf("%d answers took 60 s or more", late)
	}
	if backUnder < 0 && !killed {
		t.Errorf("RSS %s 10 s after the load, want < 200 MB", mb(rssAfter))
	}
	if statuses["200"] == 0 {
		t.Error("no request succeeded")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
