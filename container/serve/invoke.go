package serve

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// Content types the server understands.
const (
	contentJSON      = "application/json"
	contentJSONLines = "application/jsonlines"
	contentCSV       = "text/csv"
	contentTypes     = "application/json, application/jsonlines or text/csv"
)

// predictBatch is the most cases one Predict call gets: the model's largest evaluation
// batch, so the answers are those of one Predict call over the whole request, while a
// request whose client has gone, or whose deadline has passed, stops within one batch.
const predictBatch = 64

func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	s.trace(w, r)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; expected POST")
		return
	}
	mediaType, err := requestType(r.Header.Get("Content-Type"))
	if err == nil {
		err = requestEncoding(r.Header.Values("Content-Encoding"))
	}
	if err != nil {
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	lm := s.model.Load()
	if lm == nil {
		writeError(w, http.StatusServiceUnavailable, "model not loaded yet")
		return
	}
	if r.ContentLength > s.opts.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the %d byte limit", s.opts.maxBody))
		return
	}
	// Admission comes before the body is read: a refused request costs no memory. A
	// chunked body is charged as it arrives, not at the most it may send.
	size := r.ContentLength
	if size < 0 {
		size = min(chunkCharge, s.opts.maxBody)
	}
	t, ok := s.adm.acquire(size)
	if !ok {
		// Closing the connection spares reading the body: net/http would read up to
		// 256 kB of it to keep the connection.
		w.Header().Set("Connection", "close")
		busy(w, "server busy: too many requests in progress; retry later")
		return
	}
	defer t.release()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.requestTimeout)
	defer cancel()

	body, err := s.readBodyTimed(w, r, t)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the %d byte limit", tooBig.Limit))
		case errors.Is(err, errBodyBudget):
			w.Header().Set("Connection", "close")
			busy(w, "server busy: too many requests in progress; retry later")
		case errors.Is(err, os.ErrDeadlineExceeded):
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, err.Error())
		default:
			writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		}
		return
	}
	// The cases, their predictions and the answer are charged before decoding.
	if !t.grow(requestCost(lm, mediaType, body)) {
		busy(w, "server busy: not enough memory free for this many cases now; retry later or send fewer cases")
		return
	}

	// Decoding and predicting hold a slot: at most the workers' goroutines compete for
	// the CPUs, so /ping and the requests being read are never queued behind a crowd of
	// decoders.
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.stopped(w, r, ctx)
		return
	}
	req, preds, err := work(ctx, lm, mediaType, body, nil)
	<-s.slots
	body = nil
	var bad *badRequest
	switch {
	case err == nil:
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.msg)
		return
	case ctx.Err() != nil:
		s.stopped(w, r, ctx)
		return
	default:
		s.opts.logger.Error("prediction failed", "err", err)
		writeError(w, http.StatusInternalServerError, "prediction failed")
		return
	}

	w.Header().Set("X-Model-Version", lm.version)
	switch mediaType {
	case contentJSON:
		w.Header().Set("Content-Type", contentJSON)
		w.WriteHeader(http.StatusOK)
		err = writeJSONAnswer(w, lm, req, preds)
	case contentJSONLines:
		w.Header().Set("Content-Type", contentJSONLines)
		w.WriteHeader(http.StatusOK)
		err = writeJSONLines(w, lm, req, preds)
	default:
		w.Header().Set("Content-Type", contentCSV)
		w.WriteHeader(http.StatusOK)
		if s.opts.batch {
			err = writeBatchCSV(w, lm, req, preds)
		} else {
			err = writeCSV(w, lm, req, preds)
		}
	}
	if err != nil {
		s.opts.logger.Warn("write answer", "err", err)
	}
}

// requestType checks a request's Content-Type and returns its media type.
func requestType(ct string) (string, error) {
	mediaType, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return "", errors.New("missing Content-Type; expected " + contentTypes)
	case err != nil:
		return "", fmt.Errorf("malformed Content-Type %q; expected %s", ct, contentTypes)
	case mediaType != contentJSON && mediaType != contentJSONLines && mediaType != contentCSV:
		return "", fmt.Errorf("unsupported Content-Type %q; expected %s", mediaType, contentTypes)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", fmt.Errorf("unsupported charset %q; expected utf-8", cs)
	}
	return mediaType, nil
}

// requestEncoding refuses compressed bodies by name: the server reads bodies as
// sent, and a gzip body would otherwise be reported as malformed JSON or CSV.
func requestEncoding(values []string) error {
	for _, v := range values {
		for _, ce := range strings.Split(v, ",") {
			if ce = strings.TrimSpace(ce); ce != "" && !strings.EqualFold(ce, "identity") {
				return fmt.Errorf("unsupported Content-Encoding %q; send the body uncompressed", ce)
			}
		}
	}
	return nil
}

// readBody reads the body in one allocation when its length is declared (io.ReadAll
// would grow its buffer by copying, holding up to twice the body); a chunked body is
// charged to t chunkCharge at a time as it arrives.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, t *ticket) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n >= 0 {
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var buf bytes.Buffer
	for {
		// CopyN reports io.EOF exactly when the body ends before a whole chunk.
		_, err := io.CopyN(&buf, body, chunkCharge)
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		if !t.grow(BodyCost(chunkCharge)) {
			return nil, errBodyBudget
		}
	}
}

// busy answers 503 with Retry-After, for a request refused or out of time.
func busy(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", retryAfterSeconds)
	writeError(w, http.StatusServiceUnavailable, msg)
}

// stopped answers a request whose context ended: past its deadline it gets 503; a client
// that has gone gets nothing.
func (s *Server) stopped(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if r.Context().Err() != nil {
		s.opts.logger.Debug("client gone; request dropped")
		return
	}
	busy(w, fmt.Sprintf("server busy: no answer within the %v deadline; retry later or send fewer cases", s.opts.requestTimeout))
}

// badRequest is an error the client caused: its message is the 400 answer.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

// work parses the body and predicts, with the effects the request (or, when not nil,
// force) asks for; errors are *badRequest, ctx's error, or the model's.
func work(ctx context.Context, lm *loadedModel, mediaType string, body []byte, force *effectsOpt) (*request, [][]float32, error) {
	var req *request
	var err error
	// A leading byte order mark is not data, in any encoding.
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	switch mediaType {
	case contentJSON:
		if req, err = parseJSON(body, lm); err == nil {
			err = checkKeys(body, false)
		}
	case contentJSONLines:
		if req, err = parseJSONLines(body, lm); err == nil {
			err = checkKeys(body, true)
		}
	default:
		req, err = parseCSV(ctx, body, lm)
	}
	if err == nil {
		err = checkSamples(lm, req)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, &badRequest{err.Error()}
	}
	if ic, ok := lm.m.(InputChecker); ok {
		for i := range req.samples {
			if err := ic.CheckInput(&req.samples[i]); err != nil {
				return nil, nil, &badRequest{req.label(i) + ": " + err.Error()}
			}
		}
	}
	preds, err := predict(ctx, lm, req.samples)
	if err != nil {
		return nil, nil, err
	}
	if msg, bad := nonFinite(lm, req, preds); bad {
		return nil, nil, &badRequest{msg}
	}
	if opt := cmp.Or(force, req.effects); opt != nil {
		scale, err := opt.scale()
		if err != nil {
			return nil, nil, &badRequest{err.Error()}
		}
		if req.explained, err = explain(ctx, lm, req, scale); err != nil {
			return nil, nil, err
		}
	}
	return req, preds, nil
}

// predict runs the model a batch at a time while ctx lasts and checks the shape of its
// answer, so a model bug surfaces as a logged 500 rather than a panic or a short answer.
func predict(ctx context.Context, lm *loadedModel, samples []pipeline.Sample) ([][]float32, error) {
	preds := make([][]float32, 0, len(samples))
	for start := 0; start < len(samples); start += predictBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := samples[start:min(start+predictBatch, len(samples))]
		p, err := predictOnce(lm, batch)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p...)
	}
	return preds, nil
}

func predictOnce(lm *loadedModel, samples []pipeline.Sample) (preds [][]float32, err error) {
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
