package cli

import (
	"flag"
	"regexp"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
)

// InvokeEndpoint limits: InferenceId 1-64 printable characters starting with a
// non-space; CustomAttributes at most 1024 ASCII characters.
const (
	maxInferenceID      = 64
	maxCustomAttributes = 1024
)

var (
	reInferenceID = regexp.MustCompile(`^\S[[:print:]]*$`)
	reASCII       = regexp.MustCompile(`^[\x00-\x7f]*$`)
)

// invokeTrace ties a prediction to what happens later: the inference id is
// recorded with captured data; custom attributes reach the container and come back.
type invokeTrace struct {
	inferenceID, customAttributes string
}

func (t *invokeTrace) register(fs *flag.FlagSet) {
	fs.StringVar(&t.inferenceID, "inference-id", "", "`ID` recorded with this request in the endpoint's captured data and the container's log (1-64 characters)")
	fs.StringVar(&t.customAttributes, "custom-attributes", "", "opaque `TEXT` passed to the container (X-Amzn-SageMaker-Custom-Attributes, at most 1024 ASCII characters); the container's answer is printed")
}

func (t *invokeTrace) check() error {
	if t.inferenceID != "" && (utf8.RuneCountInString(t.inferenceID) > maxInferenceID || !reInferenceID.MatchString(t.inferenceID)) {
		return usagef("--inference-id %q: expected 1 to %d printable characters, not starting with a space", t.inferenceID, maxInferenceID)
	}
	if len(t.customAttributes) > maxCustomAttributes || !reASCII.MatchString(t.customAttributes) {
		return usagef("--custom-attributes: expected at most %d ASCII characters", maxCustomAttributes)
	}
	return nil
}

func (t *invokeTrace) apply(in *sagemakerruntime.InvokeEndpointInput) {
	in.InferenceId = optString(t.inferenceID)
	in.CustomAttributes = optString(t.customAttributes)
}

func (t *invokeTrace) dryRun(req map[string]string) {
	if t.inferenceID != "" {
		req["InferenceId"] = t.inferenceID
	}
	if t.customAttributes != "" {
		req["CustomAttributes"] = t.customAttributes
	}
}
