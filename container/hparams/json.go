package hparams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// FromJSON reads hyperparameters.json's object into strings, as Parse takes them.
// SageMaker sends strings, but tuning jobs and hand-written files may hold bare numbers or
// booleans, so those are accepted as their literal text; nested objects, arrays and null
// are not. Keys Ignored reports are skipped whatever their value. A key given twice is an
// error: encoding/json would keep the last value silently.
func FromJSON(data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("expected a JSON object of hyperparameters")
	}
	out := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %v", err)
		}
		k, _ := tok.(string) // object keys are strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("hyperparameter %s: invalid JSON: %v", k, err)
		}
		if Ignored(k) {
			continue
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("hyperparameter %s appears twice; expected each key once", k)
		}
		s, err := jsonText(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: more after the object")
	}
	return out, nil
}

// jsonText is one value as the text Parse checks.
func jsonText(k string, v json.RawMessage) (string, error) {
	switch {
	case bytes.Equal(v, []byte("null")):
		return "", fmt.Errorf("hyperparameter %s is null; expected a string or number", k)
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("hyperparameter %s: %v", k, err)
		}
		return s, nil
	case v[0] == '{':
		return "", fmt.Errorf("hyperparameter %s is a JSON object; expected a string or number", k)
	case v[0] == '[':
		return "", fmt.Errorf("hyperparameter %s is a JSON array; expected a string or number", k)
	default: // number or boolean literal
		return string(v), nil
	}
}
