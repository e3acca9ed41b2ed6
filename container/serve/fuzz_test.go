package serve_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/serve"
)

func fuzzHandler(f *testing.F) http.Handler {
	// with a stored training header, CSV bodies without a header line are read too
	header := strings.Split("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,pre_pco2,pre_baseexcess,P0,P1,P2,P3", ",")
	srv := serve.New(func(context.Context) (serve.Model, error) { return withHeader{newFake(), header}, nil })
	if err := srv.Load(context.Background()); err != nil {
		f.Fatal(err)
	}
	return srv.Handler()
}

// invoke sends body to h and checks what every answer must be: 200 or 400 (the fake model
// never fails, so anything else is the server's fault), an error as one line of JSON
// {"error": ...}, and a 200 body readable in the request's format.
func invoke(t *testing.T, h http.Handler, contentType string, body []byte) (status int, answer []byte) {
	req := httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	answer = rec.Body.Bytes()
	switch rec.Code {
	case http.StatusOK:
	case http.StatusBadRequest:
		var e struct{ Error string }
		if err := json.Unmarshal(answer, &e); err != nil || e.Error == "" || strings.Contains(e.Error, "\n") {
			t.Fatalf("400 answer %q is not one line of JSON {\"error\": ...}", answer)
		}
	default:
		t.Fatalf("status %d for %q: %s", rec.Code, body, answer)
	}
	return rec.Code, answer
}

func finite(t *testing.T, vals []float32) {
	for _, v := range vals {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("a 200 answer holds %v", v)
		}
	}
}

func FuzzInvocationJSON(f *testing.F) {
	h := fuzzHandler(f)
	f.Add([]byte(`{"cases":[{"id":"a","pre":{"ph":7.3},"prescriptions":[{"embedding":[1,2,3,4],"dose":1,"unit":"mg"}]}]}`))
	f.Add([]byte(`[{"prescriptions":[{"drug":"Heparin","dose":null,"unit":7}]}]`))
	f.Add([]byte(`{"prescriptions":[{"embedding":[3e38,0,0,0],"dose":1e38,"unit":"UNIT"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		status, answer := invoke(t, h, "application/json", body)
		if status != http.StatusOK {
			return
		}
		var r serve.Response
		if err := json.Unmarshal(answer, &r); err != nil || len(r.Predictions) == 0 {
			t.Fatalf("200 answer %q: %v", answer, err)
		}
		for _, p := range r.Predictions {
			finite(t, p.Post.Vals)
		}
	})
}

func FuzzInvocationJSONLines(f *testing.F) {
	h := fuzzHandler(f)
	f.Add([]byte("{\"id\":\"a\",\"prescriptions\":[{\"drug\":\"x\",\"unit\":\"mg\"}]}\n{\"prescriptions\":[]}\n"))
	f.Add([]byte("{\"prescriptions\":[]}\r\n\n{\"prescriptions\":[]}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		status, answer := invoke(t, h, "application/jsonlines", body)
		if status != http.StatusOK {
			return
		}
		cases := strings.Count(strings.TrimRight(string(body), " \t\r\n"), "\n") + 1
		lines := strings.Split(strings.TrimSuffix(string(answer), "\n"), "\n")
		if len(lines) != cases {
			t.Fatalf("%d answer lines for %d case lines", len(lines), cases)
		}
		for _, l := range lines {
			var p serve.Prediction
			if err := json.Unmarshal([]byte(l), &p); err != nil {
				t.Fatalf("answer line %q: %v", l, err)
			}
			finite(t, p.Post.Vals)
		}
	})
}

func FuzzInvocationCSV(f *testing.F) {
	h := fuzzHandler(f)
	f.Add([]byte("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,P0,P1,P2,P3\n1,2125-01-01,5,mg,7.3,1,2,3,4\n"))
	f.Add([]byte("1,2125-01-01T00:00:00,325-650,UNIT,7.3,-1.0,-1.0,0.5,0,0,1\n1,2125-01-01T00:01:00,,7,7.3,-1.0,-1.0,1,1,1,1\n"))
	f.Add([]byte("prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n1,\"a, b\",mg\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		status, answer := invoke(t, h, "text/csv", body)
		if status != http.StatusOK {
			return
		}
		recs, err := csv.NewReader(bytes.NewReader(answer)).ReadAll()
		if err != nil || len(recs) < 2 || strings.Join(recs[0], ",") != "subject_id,prescription_start,post_ph,post_pco2,post_baseexcess" {
			t.Fatalf("200 answer %q: %v", answer, err)
		}
		for _, r := range recs[1:] {
			for _, c := range r[2:] {
				if c == "" {
					t.Fatalf("a 200 answer holds an empty (non-finite) value: %q", answer)
				}
			}
		}
	})
}
