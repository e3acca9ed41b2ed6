package serve_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/pipeline"
)

// fakeModel computes a deterministic function of every input field, so a parsing slip
// (wrong analyte slot, lost dose, wrong unit) changes the answer. It also records what it
// was asked, for comparing the samples the server built.
type fakeModel struct {
	layout  pipeline.Layout
	units   map[string]float32 // known units and their contribution
	version string
	delay   time.Duration
	fail    error
	panics  bool

	calls atomic.Int64 // Predict calls started

	mu   sync.Mutex
	seen [][]pipeline.Sample
}

func newFake() *fakeModel {
	return &fakeModel{
		layout:  pipeline.Layout{Analytes: []string{"ph", "pco2", "baseexcess"}, EmbeddingDim: 4, BlockRows: 3, BlockFeatures: 6},
		units:   map[string]float32{"mg": 0.5, "UNIT": 2, "7": 7},
		version: "fake-v1",
	}
}

func (f *fakeModel) Predict(samples []pipeline.Sample) ([][]float32, error) {
	f.calls.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.panics {
		panic("boom")
	}
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	f.seen = append(f.seen, samples)
	f.mu.Unlock()
	return f.compute(samples), nil
}

// compute is the fake's pure function; tests call it directly for the expected answer.
func (f *fakeModel) compute(samples []pipeline.Sample) [][]float32 {
	dim := f.layout.EmbeddingDim
	out := make([][]float32, len(samples))
	for i, s := range samples {
		p := make([]float32, len(f.layout.Analytes))
		for a := range p {
			v := float32(a) / 3
			if s.PreObserved[a] {
				v += s.Pre[a] * 1.25
			} else {
				v -= 100
			}
			for j, d := range s.Doses {
				if math.IsNaN(float64(d)) {
					d = -7
				}
				v += d*s.Embeddings[j][a%dim] + f.units[s.Units[j]]*float32(j+1)
			}
			p[a] = v
		}
		out[i] = p
	}
	return out
}

func (f *fakeModel) Layout() pipeline.Layout { return f.layout }
func (f *fakeModel) KnownUnit(u string) bool { _, ok := f.units[u]; return ok }
func (f *fakeModel) Version() string         { return f.version }
func (f *fakeModel) MaxPrescriptions() int   { return f.layout.BlockRows }
func (f *fakeModel) EmbedDrug(name string) ([]float32, error) {
	if name == "unembeddable" {
		return nil, errors.New("this model takes embeddings only")
	}
	return pipeline.EmbedText(name, f.layout.EmbeddingDim), nil
}

func (f *fakeModel) lastSeen() []pipeline.Sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return nil
	}
	return f.seen[len(f.seen)-1]
}

// withHeader is the fake model with a stored training header, so header-less
// CSV bodies are read.
type withHeader struct {
	*fakeModel
	header []string
}

func (w withHeader) TrainingHeader() []string { return w.header }

// testServer runs a Server on a loopback port until the test ends.
type testServer struct {
	srv  *serve.Server
	url  string
	done chan error
	stop context.CancelFunc
}

func startServer(t testing.TB, load serve.Loader, opts ...serve.Option) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: serve.New(load, opts...), url: "http://" + ln.Addr().String(), done: make(chan error, 1), stop: cancel}
	go func() { ts.done <- ts.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s")
		}
	})
	return ts
}

// startLoaded starts a server with m and waits until /ping says it is ready.
func startLoaded(t testing.TB, m serve.Model, opts ...serve.Option) *testServer {
	t.Helper()
	ts := startServer(t, func(context.Context) (serve.Model, error) { return m, nil }, opts...)
	waitReady(t, ts.url)
	return ts
}

func waitReady(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s/ping not 200 within 5s", url)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func post(t testing.TB, url, contentType string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/invocations", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (a answer) errorText(t testing.TB) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error answer is not JSON: %v: %s", err, a.body)
	}
	return e.Error
}

// sameBits compares predictions exactly, NaN included.
func sameBits(a, b [][]float32) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d predictions, want %d", len(a), len(b))
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return fmt.Errorf("prediction %d: %d values, want %d", i, len(a[i]), len(b[i]))
		}
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return fmt.Errorf("prediction %d value %d: %v, want %v", i, j, a[i][j], b[i][j])
			}
		}
	}
	return nil
}

// sameSample compares two samples field by field, NaN doses equal to NaN.
func sameSample(got, want pipeline.Sample) error {
	if got.Subject != want.Subject || got.Start != want.Start {
		return fmt.Errorf("subject/start %q/%q, want %q/%q", got.Subject, got.Start, want.Subject, want.Start)
	}
	f32 := func(name string, a, b []float32) error {
		if len(a) != len(b) {
			return fmt.Errorf("%s: len %d, want %d", name, len(a), len(b))
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
				return fmt.Errorf("%s[%d] = %v, want %v", name, i, a[i], b[i])
			}
		}
		return nil
	}
	for _, err := range []error{
		f32("Pre", got.Pre, want.Pre),
		f32("Embeddings", slices.Concat(got.Embeddings...), slices.Concat(want.Embeddings...)),
		f32("Doses", got.Doses, want.Doses),
	} {
		if err != nil {
			return err
		}
	}
	if fmt.Sprint(got.PreObserved) != fmt.Sprint(want.PreObserved) {
		return fmt.Errorf("PreObserved %v, want %v", got.PreObserved, want.PreObserved)
	}
	if strings.Join(got.Units, "|") != strings.Join(want.Units, "|") {
		return fmt.Errorf("Units %q, want %q", got.Units, want.Units)
	}
	return nil
}

// decodeJSON reads a JSON answer's predictions back as float32 per analyte.
func decodeJSON(t testing.TB, body []byte) serve.Response {
	t.Helper()
	var r serve.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode answer: %v: %s", err, body)
	}
	return r
}

// decodeCSV reads a CSV answer: header and the post values per row.
func decodeCSV(t testing.TB, body []byte) (header []string, keys [][2]string, vals [][]float32) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("decode CSV answer: %v: %s", err, body)
	}
	header = recs[0]
	for _, r := range recs[1:] {
		keys = append(keys, [2]string{r[0], r[1]})
		row := make([]float32, len(r)-2)
		for i, c := range r[2:] {
			f, err := strconv.ParseFloat(c, 32)
			if err != nil {
				t.Fatalf("cell %q: %v", c, err)
			}
			row[i] = float32(f)
		}
		vals = append(vals, row)
	}
	return header, keys, vals
}
