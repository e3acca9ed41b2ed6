package hparams

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func TestFromJSON(t *testing.T) {
	tests := []struct {
		name, json string
		want       map[string]string
	}{
		{"strings", `{"epochs":"20","architecture":"\"seed\""}`, map[string]string{"epochs": "20", "architecture": `"seed"`}},
		{"bare literals", `{"learning_rate":0.0139,"epochs":12.0,"flag":true}`, map[string]string{"learning_rate": "0.0139", "epochs": "12.0", "flag": "true"}},
		{"reserved keys of every type skipped", `{"sagemaker_a":{"x":[1,{"y":null}]},"sagemaker_b":[1,"2"],"sagemaker_c":3,"sagemaker_d":null,"_tuning_objective_metric":{"Name":"m"},"epochs":"2"}`,
			map[string]string{"epochs": "2"}},
		{"reserved key twice is still ignored", `{"sagemaker_a":1,"sagemaker_a":[2],"epochs":"2"}`, map[string]string{"epochs": "2"}},
		{"empty", `{}`, map[string]string{}},
	}
	for _, tt := range tests {
		got, err := FromJSON([]byte(tt.json))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFromJSONErrors(t *testing.T) {
	tests := []struct{ json, want string }{
		{`{"epochs":"-5","epochs":"2"}`, "hyperparameter epochs appears twice; expected each key once"},
		{`{"epochs":"2","epochs":"-5"}`, "hyperparameter epochs appears twice"},
		{`{"epochs":"2","ep\u006fchs":"3"}`, "hyperparameter epochs appears twice"},
		{`{"epochs":null}`, "hyperparameter epochs is null; expected a string or number"},
		{`{"epochs":{"v":1}}`, "hyperparameter epochs is a JSON object"},
		{`{"epochs":[1]}`, "hyperparameter epochs is a JSON array"},
		{`["epochs"]`, "expected a JSON object of hyperparameters"},
		{`{"epochs":"2"} {}`, "more after the object"},
		{`{"epochs":"2",}`, "invalid JSON"},
	}
	for _, tt := range tests {
		_, err := FromJSON([]byte(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromJSON(%s) error = %v, want it to contain %q", tt.json, err, tt.want)
		}
	}
}

// FuzzFromJSON: any input either fails with an error or gives keys that are not reserved
// and that survive a JSON round trip unchanged; Parse then never panics, and what it
// accepts is already in plain form.
func FuzzFromJSON(f *testing.F) {
	for _, seed := range []string{`{}`, `{"epochs":"2","batch-size":8}`, `{"epochs":"1","epochs":"2"}`,
		`{"sagemaker_x":{"a":[1]},"_t":[null]}`, `{"learning_rate":"\"0.01\""}`, `[1]`, `{"a":`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := FromJSON(data)
		if err != nil {
			return
		}
		for k := range raw {
			if Ignored(k) {
				t.Fatalf("reserved key %q kept", k)
			}
		}
		again, err := json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromJSON(again)
		if err != nil || !maps.Equal(back, raw) {
			t.Fatalf("round trip of %v: %v, %v", raw, back, err)
		}
		plain, err := Parse(raw)
		if err != nil {
			return
		}
		for _, s := range Specs {
			if v, err := s.Check(plain[s.Name]); err != nil || v != plain[s.Name] {
				t.Fatalf("%s=%q not in plain form: %q, %v", s.Name, plain[s.Name], v, err)
			}
		}
	})
}
