package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

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
	// DefaultMaxPrescriptions bounds a case's prescriptions when the model sets no limit:
	// the network's cost grows with the rows, and the original data's largest group has 42.
	DefaultMaxPrescriptions = 256
)

type options struct {
	maxBody        int64
	maxConcurrent  int
	shutdownGrace  time.Duration
	logger         *slog.Logger
	requestTimeout time.Duration
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

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRequestTimeout bounds one invocation, waiting for a slot included (SageMaker gives
// up after 60 s).
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.requestTimeout = d } }

// Server answers SageMaker's /ping and /invocations. Create it with New.
type Server struct {
	load  Loader
	opts  options
	model atomic.Pointer[loadedModel]
	slots chan struct{}
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
}

// New returns a server that will load its model with load.
func New(load Loader, opts ...Option) *Server {
	o := options{
		maxBody:        DefaultMaxBodyBytes,
		maxConcurrent:  runtime.GOMAXPROCS(0),
		shutdownGrace:  DefaultShutdownGrace,
		logger:         slog.New(slog.DiscardHandler),
		requestTimeout: 60 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxConcurrent < 1 {
		o.maxConcurrent = 1
	}
	return &Server{load: load, opts: o, slots: make(chan struct{}, o.maxConcurrent)}
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

func (s *Server) executionParameters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"MaxConcurrentTransforms": s.opts.maxConcurrent,
		"BatchStrategy":           "MULTI_RECORD",
		"MaxPayloadInMB":          max(1, s.opts.maxBody>>20),
	})
}

// Content types the server understands.
const (
	contentJSON = "application/json"
	contentCSV  = "text/csv"
)

func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; expected POST")
		return
	}
	ct := r.Header.Get("Content-Type")
	mediaType, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		writeError(w, http.StatusUnsupportedMediaType, "missing Content-Type; expected application/json or text/csv")
		return
	case err != nil:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("malformed Content-Type %q; expected application/json or text/csv", ct))
		return
	case mediaType != contentJSON && mediaType != contentCSV:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q; expected application/json or text/csv", mediaType))
		return
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported charset %q; expected utf-8", cs))
		return
	}
	lm := s.model.Load()
	if lm == nil {
		writeError(w, http.StatusServiceUnavailable, "model not loaded yet")
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the %d byte limit", tooBig.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}

	var req *request
	if mediaType == contentJSON {
		req, err = parseJSON(body, lm)
	} else {
		req, err = parseCSV(r.Context(), body, lm)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	if ic, ok := lm.m.(InputChecker); ok {
		for i := range req.samples {
			if err := ic.CheckInput(&req.samples[i]); err != nil {
				writeError(w, http.StatusBadRequest, req.label(i)+": "+err.Error())
				return
			}
		}
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.opts.requestTimeout)
	defer cancel()
	preds, err := s.predict(ctx, lm, req.samples)
	if err != nil {
		if ctx.Err() != nil {
			writeError(w, http.StatusServiceUnavailable, "server busy: no prediction slot before the deadline")
			return
		}
		s.opts.logger.Error("prediction failed", "err", err, "cases", len(req.samples))
		writeError(w, http.StatusInternalServerError, "prediction failed")
		return
	}

	w.Header().Set("X-Model-Version", lm.version)
	if mediaType == contentJSON {
		writeJSON(w, http.StatusOK, jsonResponse(lm, req, preds))
		return
	}
	w.Header().Set("Content-Type", contentCSV)
	w.WriteHeader(http.StatusOK)
	if err := writeCSV(w, lm, req, preds); err != nil {
		s.opts.logger.Warn("write answer", "err", err)
	}
}

// predict runs the model in one of the bounded slots and checks the shape of its answer,
// so a model bug surfaces as a logged 500 rather than a panic or a short answer.
func (s *Server) predict(ctx context.Context, lm *loadedModel, samples []pipeline.Sample) (preds [][]float32, err error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.slots }()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("model panicked: %v", p)
		}
	}()
	preds, err = lm.m.Predict(samples)
	if err != nil {
		return nil, err
	}
	if len(preds) != len(samples) {
		return nil, fmt.Errorf("model returned %d predictions for %d samples", len(preds), len(samples))
	}
	for i, p := range preds {
		if len(p) != len(lm.layout.Analytes) {
			return nil, fmt.Errorf("model returned %d values for sample %d; expected %d", len(p), i, len(lm.layout.Analytes))
		}
	}
	return preds, nil
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
