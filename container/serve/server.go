package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// Model is what the server needs from a trained model. LoadModel adapts *model.Model.
type Model interface {
	// Predict returns, per sample, one value per Layout().Analytes in original units. It
	// must be safe for concurrent use.
	Predict(samples []pipeline.Sample) ([][]float32, error)
	// Layout is the feature layout the model was trained on.
	Layout() pipeline.Layout
	// KnownUnit reports whether the dose unit (text or numeric code as text) was in the
	// training vocabulary.
	KnownUnit(unit string) bool
	// Version identifies the model in every answer.
	Version() string
	// EmbedDrug turns a drug name into an embedding of Layout().EmbeddingDim values, or
	// fails when the model cannot take names.
	EmbedDrug(name string) ([]float32, error)
	// MaxPrescriptions is the most prescription rows one case may have; 0 means the
	// model sets no limit (the server then applies DefaultMaxPrescriptions).
	MaxPrescriptions() int
}

// InputChecker is implemented by models that can tell, before predicting, that a
// sample's values are outside what they can compute with (a value that overflows when
// scaled); the server answers 400 instead of letting Predict fail with a 500.
type InputChecker interface {
	CheckInput(s *pipeline.Sample) error
}

// TrainingTable is implemented by models that know the header of the table they were
// trained on; the server then reads CSV bodies without a header line as rows of that table.
type TrainingTable interface {
	TrainingHeader() []string // nil when unknown
}

// Loader loads the model; the server calls it once, in the background, after it starts
// listening, so /ping can answer 503 while loading.
type Loader func(ctx context.Context) (Model, error)

// Defaults for the options.
const (
	// DefaultMaxBodyBytes matches InvokeEndpoint's 6 MB payload limit for real-time
	// endpoints.
	DefaultMaxBodyBytes = 6 << 20
	// DefaultShutdownGrace stays under the 30 s SageMaker waits between SIGTERM and
	// SIGKILL.
	DefaultShutdownGrace = 25 * time.Second
	// DefaultRequestTimeout bounds one invocation, body and waiting included; SageMaker
	// gives up after 60 s, and an answer it no longer waits for is wasted work.
	DefaultRequestTimeout = 50 * time.Second
	// DefaultMaxPrescriptions bounds a case's prescriptions when the model sets no limit:
	// the network's cost grows with the rows; training applies the same bound.
	DefaultMaxPrescriptions = model.DefaultMaxRows
)

type options struct {
	maxBody        int64
	maxConcurrent  int
	shutdownGrace  time.Duration
	logger         *slog.Logger
	requestTimeout time.Duration
	maxInflight    int
	memoryBudget   int64
	batch          bool
}

// Option configures a Server.
type Option func(*options)

// WithMaxBodyBytes sets the request size limit; larger bodies get 413.
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMaxConcurrency bounds how many predictions run at once; further requests wait for
// a slot (or their deadline). The default is GOMAXPROCS: more would only queue inside
// the CPU and raise every request's latency.
func WithMaxConcurrency(n int) Option { return func(o *options) { o.maxConcurrent = n } }

// WithShutdownGrace bounds how long in-flight requests may finish after shutdown starts.
func WithShutdownGrace(d time.Duration) Option { return func(o *options) { o.shutdownGrace = d } }

// WithBatch answers CSV one line per data row (batch transform, SAGEMAKER_BATCH=true),
// see writeBatchCSV.
func WithBatch(on bool) Option { return func(o *options) { o.batch = on } }

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRequestTimeout bounds one invocation, waiting for a slot included; past it the
// answer is 503 (default DefaultRequestTimeout).
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.requestTimeout = d } }

// WithMaxInflight bounds the invocations admitted at once, those waiting for a
// prediction slot included; more get 503 with Retry-After (default DefaultMaxInflight).
func WithMaxInflight(n int) Option { return func(o *options) { o.maxInflight = n } }

// WithMemoryBudget bounds the memory charged to admitted invocations, BodyCost of each
// body; a request that does not fit gets 503 with Retry-After before its body is read
// (default DefaultMemoryBudget).
func WithMemoryBudget(bytes int64) Option { return func(o *options) { o.memoryBudget = bytes } }

// Server answers SageMaker's /ping and /invocations. Create it with New.
type Server struct {
	load  Loader
	opts  options
	model atomic.Pointer[loadedModel]
	slots chan struct{}
	adm   *admission
}

// loadedModel caches what every request needs from the model.
type loadedModel struct {
	m        Model
	layout   pipeline.Layout
	index    map[string]int // analyte name -> position
	version  string
	maxRx    int
	postCols []string // post_<analyte>, for CSV answers
	// csvOptions read text/csv bodies against this model
	csvOptions pipeline.ReadOptions
	// trainHeader is the training table's header line (CSV, with its newline) and
	// trainNames its normalised column names; empty when the model does not know them.
	trainHeader string
	trainNames  map[string]bool
	trainFields []string
	// drugs is how the training table gave drugs (pipeline.DrugsIn); "" when unknown
	drugs string
}

// New returns a server that will load its model with load.
func New(load Loader, opts ...Option) *Server {
	o := options{
		maxBody:        DefaultMaxBodyBytes,
		maxConcurrent:  runtime.GOMAXPROCS(0),
		shutdownGrace:  DefaultShutdownGrace,
		logger:         slog.New(slog.DiscardHandler),
		requestTimeout: DefaultRequestTimeout,
		maxInflight:    DefaultMaxInflight,
		memoryBudget:   DefaultMemoryBudget,
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.maxConcurrent = max(1, o.maxConcurrent)
	o.maxInflight = max(1, o.maxInflight)
	o.memoryBudget = max(1, o.memoryBudget)
	return &Server{load: load, opts: o, slots: make(chan struct{}, o.maxConcurrent), adm: newAdmission(o.maxInflight, o.memoryBudget)}
}

// Ready reports whether the model is loaded.
func (s *Server) Ready() bool { return s.model.Load() != nil }

// Load runs the loader and makes the model available to requests.
func (s *Server) Load(ctx context.Context) error {
	m, err := s.load(ctx)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	if m == nil {
		return errors.New("load model: loader returned no model")
	}
	lm, err := newLoadedModel(m)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	s.model.Store(lm)
	return nil
}

func newLoadedModel(m Model) (*loadedModel, error) {
	var err error
	layout := m.Layout()
	if len(layout.Analytes) == 0 {
		return nil, errors.New("model layout has no analytes")
	}
	lm := &loadedModel{
		m:       m,
		layout:  layout,
		index:   make(map[string]int, len(layout.Analytes)),
		version: m.Version(),
		maxRx:   m.MaxPrescriptions(),
	}
	if lm.maxRx <= 0 {
		lm.maxRx = DefaultMaxPrescriptions
	}
	for i, a := range layout.Analytes {
		lm.index[a] = i
		lm.postCols = append(lm.postCols, "post_"+a)
	}
	lm.csvOptions = csvOptions(lm)
	if tt, ok := m.(TrainingTable); ok {
		h := tt.TrainingHeader()
		lm.trainHeader, lm.trainNames = trainingHeader(h)
		lm.trainFields = h
		if len(h) > 0 {
			if lm.drugs, err = pipeline.DrugsIn(h); err != nil {
				return nil, fmt.Errorf("training header: %w", err)
			}
		}
	}
	return lm, nil
}

// Handler returns the HTTP handler for /ping, /invocations and /execution-parameters.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", s.ping)
	mux.HandleFunc("/invocations", s.invocations)
	mux.HandleFunc("/execution-parameters", s.executionParameters)
	return mux
}

// Serve answers on ln and loads the model in the background. It returns when ctx is
// done (after a graceful shutdown: in-flight requests finish, up to the grace period),
// when the model fails to load, or when the listener fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opts.requestTimeout, // a body trickling in must not hold a slot forever
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.opts.logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	loadErr := make(chan error, 1)
	go func() {
		start := time.Now()
		err := s.Load(loadCtx)
		if err == nil {
			lm := s.model.Load()
			s.opts.logger.Info("model loaded", "version", lm.version,
				"analytes", len(lm.layout.Analytes), "took", time.Since(start).Round(time.Millisecond))
		}
		loadErr <- err
	}()
	s.opts.logger.Info("serving", "addr", ln.Addr().String())

	var result error
	for done := false; !done; {
		select {
		case err := <-loadErr:
			if err != nil {
				result = err
				done = true
			}
			loadErr = nil // loaded: keep serving
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			done = true
		}
	}
	s.opts.logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		hs.Close()
		return errors.Join(result, fmt.Errorf("shutdown: %w", err))
	}
	return result
}

// ListenAndServe listens on addr (such as ":8080") and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; expected GET")
		return
	}
	if s.model.Load() == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// executionParameters answers batch transform's question for its settings: payloads up
// to the body limit, and as many at once as run without waiting and fit the memory budget
// (more would get 503).
func (s *Server) executionParameters(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; expected GET")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"MaxConcurrentTransforms": min(s.opts.maxConcurrent, s.adm.concurrentAtMost(s.opts.maxBody)),
		"BatchStrategy":           "MultiRecord", // the API's enum; the SDK's local mode accepts only that
		"MaxPayloadInMB":          max(1, s.opts.maxBody>>20),
	})
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encode answer"}`)
	}
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
