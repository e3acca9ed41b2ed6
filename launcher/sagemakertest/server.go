package sagemakertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// HandlerFunc serves one operation: body is the raw JSON request; the result is
// marshalled as the response body. Return an *Error for an API error. The server's
// lock is held while a handler runs, so handlers may use the job state freely.
type HandlerFunc func(ctx context.Context, body []byte) (any, error)

// Error is an API error: HTTP Status (400 unless set) with __type Type.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Errors the service returns.
func Throttling() *Error {
	return &Error{Type: "ThrottlingException", Message: "Rate exceeded"}
}

// ResourceLimit is the account-quota error for too many concurrent jobs.
func ResourceLimit() *Error {
	return &Error{Type: "ResourceLimitExceeded", Message: "The account-level service limit 'ml.m5.xlarge for training job usage' is exceeded"}
}

func validation(msgs []string) *Error {
	head := "1 validation error detected: "
	if len(msgs) > 1 {
		head = fmt.Sprintf("%d validation errors detected: ", len(msgs))
	}
	return &Error{Type: "ValidationException", Message: head + strings.Join(msgs, "; ")}
}

func notFound(what string) *Error {
	return &Error{Type: "ResourceNotFound", Message: what + " does not exist"}
}

// Outcome decides how a training job ends.
type Outcome struct {
	Status          string             // Completed (default), Failed or Stopped
	FailureReason   string             // for Failed
	Metrics         map[string]float64 // FinalMetricDataList
	BillableSeconds int32
	LogLines        []string // written when the job starts Training
}

// Job is what an Outcome function sees of a submitted training job.
type Job struct {
	Name            string
	HyperParameters map[string]string
	Tags            map[string]string
}

// Option configures a Server.
type Option func(*Server)

// WithHandler adds or replaces the operation target (e.g. "SageMaker.CreateModel").
func WithHandler(target string, fn HandlerFunc) Option {
	return func(s *Server) { s.handlers[target] = fn }
}

// WithOps registers a set of operations built from the server, e.g. a method
// expression (*Server).endpointOps defined in another file of this package.
func WithOps(ops func(*Server) map[string]HandlerFunc) Option {
	return func(s *Server) {
		for t, fn := range ops(s) {
			s.handlers[t] = fn
		}
	}
}

// WithQuota limits concurrently InProgress training jobs; CreateTrainingJob beyond
// it fails with ResourceLimitExceeded.
func WithQuota(n int) Option { return func(s *Server) { s.quota = n } }

// WithStepsPerStatus sets how many requests a job spends in each secondary status.
func WithStepsPerStatus(n int) Option { return func(s *Server) { s.steps = max(1, n) } }

// WithOutcome sets how jobs end.
func WithOutcome(fn func(Job) Outcome) Option { return func(s *Server) { s.outcome = fn } }

// WithClock sets the clock used for timestamps.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithEmptyLogPages makes GetLogEvents answer n empty pages, each with a new
// forward token, before the events at every position, as the service may.
func WithEmptyLogPages(n int) Option { return func(s *Server) { s.emptyLogPages = n } }

// WithRegion sets the region used in ARNs.
func WithRegion(r string) Option { return func(s *Server) { s.region = r } }

// WithAccount sets the account id used in ARNs.
func WithAccount(id string) Option { return func(s *Server) { s.account = id } }

// Server is a running test server. Its zero value is not usable; call New.
type Server struct {
	URL string

	srv      *httptest.Server
	mux      *http.ServeMux
	mu       sync.Mutex
	handlers map[string]HandlerFunc
	faults   map[string][]*Error
	calls    map[string]int
	bodies   map[string][][]byte

	quota   int
	steps   int
	outcome func(Job) Outcome
	now     func() time.Time
	account string
	region  string

	emptyLogPages        int
	coldStart, warmStart time.Duration

	jobs     map[string]*trainingJob
	jobOrder []string
	tunings  map[string]*tuningJob
	logs     map[string]map[string]*logStream // group → stream → events

	// endpointsHook is the hosting state installed by WithEndpoints (endpoints.go,
	// the serve/deploy side); nil when the server runs without it.
	endpointsHook *endpointState
	// transformsHook is the batch transform state installed by WithTransforms.
	transformsHook *transformState
	// processingHook is the processing state installed by WithProcessing.
	processingHook *processingState
	// registryHook is the model registry state installed by WithRegistry.
	registryHook *registryState
}

// New starts a server on 127.0.0.1. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		mux:      http.NewServeMux(),
		handlers: map[string]HandlerFunc{},
		faults:   map[string][]*Error{},
		calls:    map[string]int{},
		bodies:   map[string][][]byte{},
		steps:    1,
		outcome:  DefaultOutcome,
		now:      time.Now,
		account:  "123456789012",
		region:   "us-east-1",
		jobs:     map[string]*trainingJob{},
		tunings:  map[string]*tuningJob{},
		logs:     map[string]map[string]*logStream{},
	}
	for t, fn := range s.trainingOps() {
		s.handlers[t] = fn
	}
	for t, fn := range s.tuningOps() {
		s.handlers[t] = fn
	}
	for t, fn := range s.logOps() {
		s.handlers[t] = fn
	}
	for _, o := range opts {
		o(s)
	}
	s.mux.HandleFunc("POST /{$}", s.serveJSON)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("sagemakertest: listen on 127.0.0.1: " + err.Error())
	}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: s.mux}}
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Handle adds or replaces the operation target, e.g. "SageMaker.CreateModel".
func (s *Server) Handle(target string, fn HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[target] = fn
}

// HandleHTTP serves a non-JSON-RPC route (for example sagemakerruntime's
// "POST /endpoints/{name}/invocations") on the same listener.
func (s *Server) HandleHTTP(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Inject makes the next n calls of target fail with err (before validation).
func (s *Server) Inject(target string, n int, err *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[target] = append(s.faults[target], err)
	}
}

// Calls counts requests to target, including failed ones.
func (s *Server) Calls(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[target]
}

// Bodies returns the request bodies received for target, in order.
func (s *Server) Bodies(target string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies[target]...)
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, &Error{Status: 400, Type: "SerializationException", Message: err.Error()})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, &Error{Type: "SerializationException", Message: "unexpected Content-Type " + ct})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[target]++
	s.bodies[target] = append(s.bodies[target], body)
	if strings.HasPrefix(target, "SageMaker.") {
		s.tick()
	}
	if q := s.faults[target]; len(q) > 0 {
		s.faults[target] = q[1:]
		writeError(w, q[0])
		return
	}
	fn, ok := s.handlers[target]
	if !ok {
		writeError(w, &Error{Type: "UnknownOperationException", Message: "unknown operation " + target})
		return
	}
	if !json.Valid(body) {
		writeError(w, &Error{Type: "SerializationException", Message: "body is not JSON"})
		return
	}
	out, err := fn(r.Context(), body)
	if err != nil {
		apiErr, ok := err.(*Error)
		if !ok {
			apiErr = &Error{Status: 500, Type: "InternalFailure", Message: err.Error()}
		}
		writeError(w, apiErr)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

// epoch renders a time as the protocol's epoch seconds.
func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func (s *Server) arn(kind, name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", s.region, s.account, kind, strings.ToLower(name))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
