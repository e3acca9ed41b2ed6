package sagemakertest

import (
	"net/http"
	"regexp"
	"unicode/utf8"
)

// InvokeEndpoint's tracing headers. The runtime passes custom attributes to the
// container and the container's back to the caller; the inference id is recorded
// with captured data, and this server also hands it to the container.
const (
	customAttributesHeader = "X-Amzn-SageMaker-Custom-Attributes"
	inferenceIDHeader      = "X-Amzn-SageMaker-Inference-Id"
)

var (
	reInferenceID = regexp.MustCompile(`^\S[[:print:]]*$`)
	reASCII       = regexp.MustCompile(`^[\x00-\x7f]*$`)
)

// checkInvokeHeaders applies InvokeEndpoint's limits: InferenceId 1-64 printable
// characters, CustomAttributes at most 1024 ASCII characters.
func checkInvokeHeaders(r *http.Request) string {
	if id, ok := r.Header[http.CanonicalHeaderKey(inferenceIDHeader)]; ok {
		if n := utf8.RuneCountInString(id[0]); n < 1 || n > 64 || !reInferenceID.MatchString(id[0]) {
			return "1 validation error detected: Value '" + id[0] + "' at 'inferenceId' failed to satisfy constraint: Member must have length between 1 and 64 and match \\A\\S[\\p{Print}]*\\z"
		}
	}
	if a := r.Header.Get(customAttributesHeader); len(a) > 1024 || !reASCII.MatchString(a) {
		return "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to 1024 and match \\p{ASCII}*"
	}
	return ""
}

// EndpointInferenceIDs lists the InferenceId of each call to an endpoint that gave one.
func (s *Server) EndpointInferenceIDs(name string) []string {
	st := s.hosting()
	defer s.mu.Unlock()
	if ep, ok := st.endpoints[name]; ok {
		return append([]string(nil), ep.inferenceIDs...)
	}
	return nil
}
