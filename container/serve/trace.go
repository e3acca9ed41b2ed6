package serve

import "net/http"

// InvokeEndpoint's tracing headers: the caller's custom attributes come back with
// the answer unchanged (so a client can match answers to its own records), and the
// inference id, when the request carries one, is logged with the request.
const (
	customAttributesHeader = "X-Amzn-SageMaker-Custom-Attributes"
	inferenceIDHeader      = "X-Amzn-SageMaker-Inference-Id"
)

// trace echoes the custom attributes on every answer, errors included, and logs
// the inference id. It runs before anything is written.
func (s *Server) trace(w http.ResponseWriter, r *http.Request) {
	if a := r.Header.Get(customAttributesHeader); a != "" {
		w.Header().Set(customAttributesHeader, a)
	}
	if id := r.Header.Get(inferenceIDHeader); id != "" {
		s.opts.logger.Info("invocation", "inference_id", id, "content_type", r.Header.Get("Content-Type"), "bytes", r.ContentLength)
	}
}
