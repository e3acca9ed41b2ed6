package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/pipeline"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPingBeforeAndAfterLoad(t *testing.T) {
	release := make(chan struct{})
	m := newFake()
	ts := startServer(t, func(ctx context.Context) (serve.Model, error) {
		select {
		case <-release:
			return m, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	// the listener is up before the model: ping answers 503, invocations too
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if resp, err = http.Get(ts.url + "/ping"); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ping before load: %d, want 503", resp.StatusCode)
	}
	if a := post(t, ts.url, "application/json", readFixture(t, "cases.json")); a.status != http.StatusServiceUnavailable {
		t.Fatalf("invocation before load: %d, want 503", a.status)
	}
	if ts.srv.Ready() {
		t.Fatal("Ready before load")
	}
	close(release)
	waitReady(t, ts.url)
	resp, err = http.Get(ts.url + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != 0 {
		t.Fatalf("ping after load: %d with %d bytes, want 200 and an empty body", resp.StatusCode, resp.ContentLength)
	}
}

func TestLoadFailureStopsServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := serve.New(func(context.Context) (serve.Model, error) {
		return nil, errors.New("model dir /opt/ml/model: no model.json")
	})
	err = s.Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "no model.json") {
		t.Fatalf("Serve = %v, want the load error", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("listener still accepting after a failed load")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	m := newFake()
	ts := startLoaded(t, m)
	nan := float32(math.NaN())
	vaso := pipeline.EmbedText("Vasopressin", 4)
	full := []pipeline.Sample{
		{Subject: "patient-1", Pre: []float32{7.3, 63, -1}, PreObserved: []bool{true, true, true},
			Embeddings: pipeline.EmbeddingRows([]float32{0.5, -0.25, 1e-3, 2, 1, 0, 0, -1}, 4), Doses: []float32{60, 100}, Units: []string{"mg", "UNIT"}},
		{Subject: "patient-2", Pre: []float32{0, 0, 0}, PreObserved: []bool{false, false, false},
			Embeddings: pipeline.EmbeddingRows(vaso, 4), Doses: []float32{nan}, Units: []string{"7"}},
		{Subject: "", Pre: []float32{0, 0, 0}, PreObserved: []bool{false, false, false}},
	}
	tests := []struct {
		name string
		body []byte
		want []pipeline.Sample
		ids  []string
	}{
		{"cases object from fixture", readFixture(t, "cases.json"), full, []string{"patient-1", "patient-2", ""}},
		{"bare case", []byte(`{"id":"x","pre":{"ph":7.3,"pco2":63,"baseexcess":-1},"prescriptions":[{"embedding":[0.5,-0.25,0.001,2],"dose":60,"unit":"mg"},{"embedding":[1,0,0,-1],"dose":100,"unit":"UNIT"}]}`),
			[]pipeline.Sample{withSubject(full[0], "x")}, []string{"x"}},
		{"array of cases", []byte(`[{"id":"patient-2","prescriptions":[{"drug":"  Vasopressin ","unit":"7"}]}]`),
			full[1:2], []string{"patient-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, ts.url, "application/json; charset=utf-8", tc.body)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			seen := m.lastSeen()
			if len(seen) != len(tc.want) {
				t.Fatalf("model saw %d samples, want %d", len(seen), len(tc.want))
			}
			for i := range seen {
				if err := sameSample(seen[i], tc.want[i]); err != nil {
					t.Errorf("sample %d: %v", i, err)
				}
			}
			r := decodeJSON(t, a.body)
			if r.ModelVersion != "fake-v1" || a.header.Get("X-Model-Version") != "fake-v1" {
				t.Errorf("model version %q / header %q, want fake-v1", r.ModelVersion, a.header.Get("X-Model-Version"))
			}
			if strings.Join(r.Analytes, ",") != "ph,pco2,baseexcess" {
				t.Errorf("analytes %v", r.Analytes)
			}
			var got [][]float32
			for i, p := range r.Predictions {
				if p.ID != tc.ids[i] {
					t.Errorf("prediction %d id %q, want %q", i, p.ID, tc.ids[i])
				}
				if strings.Join(p.Post.Names, ",") != "ph,pco2,baseexcess" {
					t.Errorf("prediction %d keys %v, want the model's analyte order", i, p.Post.Names)
				}
				got = append(got, p.Post.Vals)
			}
			if err := sameBits(got, m.compute(tc.want)); err != nil {
				t.Error(err)
			}
		})
	}
}

func withSubject(s pipeline.Sample, subject string) pipeline.Sample {
	s.Subject = subject
	return s
}

func TestCSVRoundTrip(t *testing.T) {
	m := newFake()
	ts := startLoaded(t, m)
	nan := float32(math.NaN())
	phenyl, vaso := pipeline.EmbedText("Phenylephrine HCl", 4), pipeline.EmbedText("Vasopressin", 4)
	tests := []struct {
		name    string
		fixture string
		keys    [][2]string
		want    []pipeline.Sample
	}{
		{"final table with P columns", "final.csv",
			[][2]string{{"10013", "2125-10-05"}, {"10014", "2130-01-02"}},
			[]pipeline.Sample{
				// -1 is the final table's missing code, for blood values and doses alike
				{Subject: "10013", Start: "2125-10-05", Pre: []float32{7.3, 63, 0}, PreObserved: []bool{true, true, false},
					Embeddings: pipeline.EmbeddingRows([]float32{0.5, -0.25, 0.001, 2, 1, 0, 0, -1}, 4), Doses: []float32{60, nan}, Units: []string{"7", "7"}},
				{Subject: "10014", Start: "2130-01-02", Pre: []float32{0, 40, -3.5}, PreObserved: []bool{false, true, true},
					Embeddings: pipeline.EmbeddingRows([]float32{0.1, 0.2, 0.3, 0.4}, 4), Doses: []float32{2.5}, Units: []string{"mg"}},
			}},
		{"raw table with drug names", "raw.csv",
			[][2]string{{"10013", "2125-10-05"}},
			[]pipeline.Sample{
				// raw tables write missing as empty, so -1.0 is a real base excess
				{Subject: "10013", Start: "2125-10-05", Pre: []float32{7.3, 0, -1}, PreObserved: []bool{true, false, true},
					Embeddings: pipeline.EmbeddingRows(append(append([]float32{}, phenyl...), vaso...), 4), Doses: []float32{487.5, nan}, Units: []string{"mg", "UNIT"}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, ts.url, "text/csv", readFixture(t, tc.fixture))
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); ct != "text/csv" {
				t.Errorf("Content-Type %q, want text/csv", ct)
			}
			seen := m.lastSeen()
			if len(seen) != len(tc.want) {
				t.Fatalf("model saw %d samples, want %d", len(seen), len(tc.want))
			}
			for i := range seen {
				if err := sameSample(seen[i], tc.want[i]); err != nil {
					t.Errorf("sample %d: %v", i, err)
				}
			}
			header, keys, vals := decodeCSV(t, a.body)
			if got := strings.Join(header, ","); got != "subject_id,prescription_start,post_ph,post_pco2,post_baseexcess" {
				t.Errorf("header %s", got)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.keys) {
				t.Errorf("keys %v, want %v", keys, tc.keys)
			}
			if err := sameBits(vals, m.compute(tc.want)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestJSONLines: application/jsonlines (batch transform's SplitType Line) is one case per
// line, answered one line per case in the same order.
func TestJSONLines(t *testing.T) {
	m := newFake()
	ts := startLoaded(t, m)
	body := `{"id":"a","pre":{"ph":7.3},"prescriptions":[{"embedding":[1,0.5,0.25,0],"dose":60,"unit":"mg"}]}` + "\r\n" +
		`{"prescriptions":[]}` + "\n" +
		`{"id":"c","pre":{"pco2":40},"prescriptions":[{"drug":"Vasopressin","unit":"7"}]}` + "\n\n"
	a := post(t, ts.url, "application/jsonlines", []byte(body))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/jsonlines" {
		t.Errorf("Content-Type %q, want application/jsonlines", ct)
	}
	if a.header.Get("X-Model-Version") != "fake-v1" {
		t.Errorf("X-Model-Version %q", a.header.Get("X-Model-Version"))
	}
	nan := float32(math.NaN())
	want := []pipeline.Sample{
		{Pre: []float32{7.3, 0, 0}, PreObserved: []bool{true, false, false}, Embeddings: pipeline.EmbeddingRows([]float32{1, 0.5, 0.25, 0}, 4), Doses: []float32{60}, Units: []string{"mg"}},
		{Pre: []float32{0, 0, 0}, PreObserved: []bool{false, false, false}},
		{Pre: []float32{0, 40, 0}, PreObserved: []bool{false, true, false}, Embeddings: pipeline.EmbeddingRows(pipeline.EmbedText("Vasopressin", 4), 4), Doses: []float32{nan}, Units: []string{"7"}},
	}
	lines := strings.Split(strings.TrimSuffix(string(a.body), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d answer lines for %d cases: %s", len(lines), len(want), a.body)
	}
	var got [][]float32
	for i, l := range lines {
		var p serve.Prediction
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if wantID := []string{"a", "", "c"}[i]; p.ID != wantID {
			t.Errorf("line %d id %q, want %q", i+1, p.ID, wantID)
		}
		got = append(got, p.Post.Vals)
	}
	if err := sameBits(got, m.compute(want)); err != nil {
		t.Error(err)
	}
}

// TestExecutionParameters: batch transform is told the body limit and as many concurrent
// transforms as run at once within the memory budget.
func TestExecutionParameters(t *testing.T) {
	tests := []struct {
		name     string
		opts     []serve.Option
		wantConc int
		wantMB   int
	}{
		{"workers bound", []serve.Option{serve.WithMaxConcurrency(3)}, 3, 6},
		{"budget bound", []serve.Option{serve.WithMaxConcurrency(4), serve.WithMaxBodyBytes(20 << 20), serve.WithMemoryBudget(serve.BodyCost(20<<20) * 2)}, 2, 20},
		{"budget below one payload", []serve.Option{serve.WithMaxConcurrency(4), serve.WithMemoryBudget(1 << 20)}, 1, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startLoaded(t, newFake(), tc.opts...)
			resp, err := http.Get(ts.url + "/execution-parameters")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				MaxConcurrentTransforms int
				BatchStrategy           string
				MaxPayloadInMB          int
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			// the API's enum (MultiRecord | SingleRecord): the SDK's local mode refuses others
			if got.MaxConcurrentTransforms != tc.wantConc || got.MaxPayloadInMB != tc.wantMB || got.BatchStrategy != string(smtypes.BatchStrategyMultiRecord) {
				t.Fatalf("got %+v, want %d concurrent, %d MB, %s", got, tc.wantConc, tc.wantMB, smtypes.BatchStrategyMultiRecord)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	ts := startLoaded(t, newFake(), serve.WithMaxBodyBytes(4096))
	emb := `"embedding":[1,2,3,4]`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		wantMsg     string
	}{
		{"no content type", "", `{}`, 415, "missing Content-Type"},
		{"wrong content type", "text/plain", `{}`, 415, `unsupported Content-Type "text/plain"`},
		{"malformed content type", "application/json; =", `{}`, 415, "malformed Content-Type"},
		{"wrong charset", "text/csv; charset=latin1", "a", 415, `unsupported charset "latin1"`},
		{"empty body", "application/json", ``, 400, "empty body"},
		{"not json", "application/json", `hello`, 400, "malformed JSON"},
		{"truncated json", "application/json", `{"cases":[{"prescriptions":[`, 400, "malformed JSON"},
		{"trailing data", "application/json", `{"prescriptions":[]} {}`, 400, "unexpected data"},
		{"no cases", "application/json", `{"cases":[]}`, 400, "at least one case"},
		{"null cases", "application/json", `{"cases":null}`, 400, "cases: expected an array"},
		{"field beside cases", "application/json", `{"cases":[],"x":1}`, 400, `unknown field "x"`},
		{"cases not array", "application/json", `{"cases":{}}`, 400, "cases: expected an array"},
		{"unknown case field", "application/json", `{"cases":[{"prescriptions":[],"post":{}}]}`, 400, "cases[0].post: unknown field"},
		{"missing prescriptions", "application/json", `{"cases":[{"pre":{}}]}`, 400, "cases[0].prescriptions: missing"},
		{"too many prescriptions", "application/json", `{"prescriptions":[{"drug":"a","unit":"mg"},{"drug":"a","unit":"mg"},{"drug":"a","unit":"mg"},{"drug":"a","unit":"mg"}]}`, 400, "at most 3"},
		{"unknown analyte", "application/json", `{"cases":[{"pre":{"ph":7,"lactat":2},"prescriptions":[]}]}`, 400, `cases[0].pre.lactat: unknown analyte "lactat"`},
		{"pre not number", "application/json", `{"cases":[{"pre":{"ph":"7.3"},"prescriptions":[]}]}`, 400, "cases[0].pre.ph: expected a number or null, got a string"},
		{"pre overflow", "application/json", `{"cases":[{"pre":{"ph":1e300},"prescriptions":[]}]}`, 400, "cases[0].pre.ph: 1e+300 is out of float32 range"},
		{"pre not object", "application/json", `{"cases":[{"pre":[1],"prescriptions":[]}]}`, 400, "cases[0].pre: expected an object"},
		{"unknown unit", "application/json", `{"cases":[{"prescriptions":[{` + emb + `,"dose":1,"unit":"mcg"}]}]}`, 400, `cases[0].prescriptions[0].unit: unknown unit "mcg"`},
		{"unknown unit code", "application/json", `{"cases":[{"prescriptions":[{` + emb + `,"dose":1,"unit":8}]}]}`, 400, `unknown unit "8"`},
		{"missing unit", "application/json", `{"cases":[{"prescriptions":[{` + emb + `,"dose":1}]}]}`, 400, "cases[0].prescriptions[0].unit: missing"},
		{"unit wrong type", "application/json", `{"cases":[{"prescriptions":[{` + emb + `,"dose":1,"unit":true}]}]}`, 400, "unit: expected a string or a numeric unit code, got a boolean"},
		{"dose not number", "application/json", `{"cases":[{"prescriptions":[{` + emb + `,"dose":"ten","unit":"mg"}]}]}`, 400, "cases[0].prescriptions[0].dose: expected a number or null, got a string"},
		{"negative dose", "application/json", `{"cases":[{"prescriptions":[{` + emb + `,"dose":-5,"unit":"mg"}]}]}`, 400, "dose: -5; expected a non-negative number"},
		{"no drug", "application/json", `{"cases":[{"prescriptions":[{"dose":1,"unit":"mg"}]}]}`, 400, "missing drug or embedding"},
		{"drug and embedding", "application/json", `{"cases":[{"prescriptions":[{"drug":"a",` + emb + `,"unit":"mg"}]}]}`, 400, "both drug and embedding"},
		{"empty drug", "application/json", `{"cases":[{"prescriptions":[{"drug":" ","unit":"mg"}]}]}`, 400, "prescriptions[0].drug: empty"},
		{"model refuses names", "application/json", `{"cases":[{"prescriptions":[{"drug":"unembeddable","unit":"mg"}]}]}`, 400, "drug: this model takes embeddings only"},
		{"short embedding", "application/json", `{"cases":[{"prescriptions":[{"embedding":[1,2],"unit":"mg"}]}]}`, 400, "prescriptions[0].embedding: 2 values; expected 4"},
		{"embedding not numbers", "application/json", `{"cases":[{"prescriptions":[{"embedding":[1,"a",3,4],"unit":"mg"}]}]}`, 400, "cases[0].prescriptions[0].embedding: expected a number, got string"},
		{"unknown rx field", "application/json", `{"cases":[{"prescriptions":[{"drug":"a","unit":"mg","route":"iv"}]}]}`, 400, "cases[0].prescriptions[0].route: unknown field; expected drug or embedding, dose, unit"},
		{"second case bad", "application/json", `[{"prescriptions":[]},{"prescriptions":[{"drug":"a","unit":"kg"}]}]`, 400, `cases[1].prescriptions[0].unit: unknown unit "kg"`},

		{"csv empty", "text/csv", ``, 400, "body:1:1: empty file"},
		{"csv header only", "text/csv", "prescription_dose_val_rx,prescription_drug\n", 400, "no rows after the header"},
		{"csv unknown analyte", "text/csv", "prescription_dose_val_rx,prescription_drug,pre_lactat\n1,a,2\n", 400, `column pre_lactat names unknown analyte "lactat"`},
		{"csv unknown column", "text/csv", "prescription_dose_val_rx,prescription_drug,route\n1,a,iv\n", 400, `unknown column "route"`},
		{"csv duplicate column", "text/csv", "prescription_dose_val_rx,prescription_drug,pre_ph,PRE_PH\n1,a,2,2\n", 400, `duplicate column "pre_ph"`},
		{"csv no dose column", "text/csv", "prescription_drug\na\n", 400, "body:1:1: expected a dose column prescription_dose_val_rx"},
		{"csv no drug column", "text/csv", "prescription_dose_val_rx\n1\n", 400, "body:1:1: expected embedding columns P0..Pn, an embedding string column or prescription_drug"},
		{"csv two drug sources", "text/csv", "prescription_dose_val_rx,prescription_drug,P0,P1,P2,P3\n1,a,1,2,3,4\n", 400, "more than one drug source"},
		{"csv missing P column", "text/csv", "prescription_dose_val_rx,P0,P1,P3\n1,1,2,4\n", 400, "body:1:1: embedding columns P0..P2 expected, P2 missing"},
		{"csv P beyond dim", "text/csv", "prescription_dose_val_rx,P0,P1,P2,P3,P4\n1,1,2,3,4,5\n", 400, "body:1:1: embedding width 5 differs from 4"},
		{"csv subject without start", "text/csv", "subject_id,prescription_dose_val_rx,prescription_drug\n1,1,a\n", 400, "body:1:1: expected prescription_start beside subject_id"},
		{"csv wrong field count", "text/csv", "prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n1,a,mg\n1,a\n", 400, "body:3:1: expected 3 columns as in the header, got 2"},
		{"csv bad quote", "text/csv", "prescription_dose_val_rx,prescription_drug\n1,\"a\n", 400, "body:2:3: malformed csv"},
		{"csv bad pre", "text/csv", "prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx,pre_ph\n1,a,mg,abc\n", 400, `body:2:8: column pre_ph: expected a number, got "abc"`},
		{"csv nan pre", "text/csv", "prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx,pre_ph\n1,a,mg,NaN\n", 400, "expected a finite number"},
		{"csv bad dose", "text/csv", "prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\nlots,a,mg\n", 400, `body:2:1: column prescription_dose_val_rx: expected a dose (a number or a range like "325-650"), got "lots"`},
		{"csv bad P value", "text/csv", "prescription_dose_val_rx,prescription_dose_unit_rx,P0,P1,P2,P3\n1,mg,1,x,3,4\n", 400, `body:2:8: column p1: expected a number, got "x"`},
		{"csv unknown unit", "text/csv", "prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n1,a,mg\n1,a,mcg\n", 400, `body:3:5: column prescription_dose_unit_rx: unknown unit "mcg"`},
		{"csv no unit column", "text/csv", "prescription_dose_val_rx,prescription_drug\n1,a\n", 400, "prescription_dose_unit_rx: missing"},
		{"csv empty drug", "text/csv", "prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n1,,mg\n", 400, "body:2:3: column prescription_drug: expected a drug name, got an empty cell"},
		{"csv bad embedding string", "text/csv", "prescription_dose_val_rx,prescription_rx_embeddings,prescription_dose_unit_rx\n1,[1 2 3],mg\n", 400, "body:2:3: column prescription_rx_embeddings: expected an embedding of 4 values, got 3"},
		{"csv empty subject", "text/csv", "subject_id,prescription_start,prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n,2125-01-01,1,a,mg\n", 400, "body:2:1: column subject_id: expected a subject id, got an empty cell"},
		{"csv bad start", "text/csv", "subject_id,prescription_start,prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n1,yesterday,1,a,mg\n", 400, `body:2:3: column prescription_start: expected a time like 2125-10-05T00:00:00, got "yesterday"`},
		{"csv group disagrees on pre", "text/csv", "subject_id,prescription_start,prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx,pre_ph\n1,2125-01-01,1,a,mg,7.3\n1,2125-01-01,1,b,mg,7.4\n", 400, "body:3:21: column pre_ph: \"7.4\" differs from line 2"},
		{"csv too many prescriptions", "text/csv", "subject_id,prescription_start,prescription_dose_val_rx,prescription_drug,prescription_dose_unit_rx\n1,2125-01-01,1,a,mg\n1,2125-01-01,1,b,mg\n1,2125-01-01,1,c,mg\n1,2125-01-01,1,d,mg\n", 400, "body:5:1: group (1, 2125-01-01) has more than 3 prescriptions"},

		{"jsonlines empty", "application/jsonlines", "\n \n", 400, "empty body; expected one JSON case per line"},
		{"jsonlines empty line", "application/jsonlines", `{"prescriptions":[]}` + "\n\n" + `{"prescriptions":[]}`, 400, "line 2: empty; expected a JSON case object"},
		{"jsonlines array line", "application/jsonlines", `{"prescriptions":[]}` + "\n[1]", 400, "line 2: expected a JSON case object, got an array"},
		{"jsonlines cases object", "application/jsonlines", `{"cases":[{"prescriptions":[]}]}`, 400, "line 1: cases: unknown field; expected id, pre, prescriptions"},
		{"jsonlines bad dose", "application/jsonlines", `{"prescriptions":[]}` + "\n" + `{"prescriptions":[{` + emb + `,"dose":"x","unit":"mg"}]}`, 400, "line 2: prescriptions[0].dose: expected a number or null, got a string"},
		{"jsonlines unknown unit", "application/jsonlines", `{"prescriptions":[{` + emb + `,"dose":1,"unit":"kg"}]}`, 400, `line 1: prescriptions[0].unit: unknown unit "kg"`},
		{"jsonlines two values on a line", "application/jsonlines", `{"prescriptions":[]} {"prescriptions":[]}`, 400, "line 1: unexpected data after the case; expected one JSON case per line"},

		{"too large", "application/json", `{"cases":[` + strings.Repeat(`{"prescriptions":[]},`, 300) + `{"prescriptions":[]}]}`, 413, "over the 4096 byte limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, ts.url, tc.contentType, []byte(tc.body))
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			if msg := a.errorText(t); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q, want it to contain %q", msg, tc.wantMsg)
			}
		})
	}
}

func TestMethodsAndPaths(t *testing.T) {
	ts := startLoaded(t, newFake())
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/invocations", 405},
		{http.MethodPost, "/ping", 405},
		{http.MethodHead, "/ping", 200},
		{http.MethodGet, "/execution-parameters", 200},
		{http.MethodGet, "/nope", 404},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, ts.url+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}

func TestModelFailuresAre500(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fakeModel)
	}{
		{"error", func(m *fakeModel) { m.fail = errors.New("graph exploded") }},
		{"panic", func(m *fakeModel) { m.panics = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newFake()
			tc.setup(m)
			ts := startLoaded(t, m)
			a := post(t, ts.url, "application/json", readFixture(t, "cases.json"))
			if a.status != http.StatusInternalServerError || a.errorText(t) != "prediction failed" {
				t.Fatalf("status %d %s, want 500 prediction failed", a.status, a.body)
			}
			// the server survives and still answers
			if resp, err := http.Get(ts.url + "/ping"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("ping after failure: %v %v", resp, err)
			}
		})
	}
}

func TestConcurrentRequests(t *testing.T) {
	m := newFake()
	ts := startLoaded(t, m, serve.WithMaxConcurrency(3))
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				// each request is distinct, so a mixed-up answer shows
				ph := float32(7) + float32(w)/10 + float32(i)/1000
				dose := float32(w*perWorker + i)
				body := fmt.Sprintf(`{"id":"w%d-%d","pre":{"ph":%v},"prescriptions":[{"embedding":[1,0.5,0.25,0],"dose":%v,"unit":"mg"}]}`, w, i, ph, dose)
				a := post(t, ts.url, "application/json", []byte(body))
				if a.status != 200 {
					errs <- fmt.Errorf("status %d: %s", a.status, a.body)
					continue
				}
				want := m.compute([]pipeline.Sample{{Pre: []float32{ph, 0, 0}, PreObserved: []bool{true, false, false},
					Embeddings: pipeline.EmbeddingRows([]float32{1, 0.5, 0.25, 0}, 4), Doses: []float32{dose}, Units: []string{"mg"}}})
				r := decodeJSON(t, a.body)
				if r.Predictions[0].ID != fmt.Sprintf("w%d-%d", w, i) {
					errs <- fmt.Errorf("answer for %s came back to w%d-%d", r.Predictions[0].ID, w, i)
				}
				if err := sameBits([][]float32{r.Predictions[0].Post.Vals}, want); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGracefulShutdown(t *testing.T) {
	m := newFake()
	m.delay = 300 * time.Millisecond
	ts := startLoaded(t, m)
	inflight := make(chan answer, 1)
	go func() { inflight <- post(t, ts.url, "application/json", readFixture(t, "cases.json")) }()
	time.Sleep(100 * time.Millisecond) // the request is inside Predict now
	ts.stop()
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("Serve after shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if a := <-inflight; a.status != http.StatusOK {
		t.Fatalf("in-flight request: %d %s, want 200 (finished during shutdown)", a.status, a.body)
	}
	if _, err := http.Post(ts.url+"/invocations", "application/json", bytes.NewReader(nil)); err == nil {
		t.Fatal("new request accepted after shutdown")
	}
	ts.done <- nil // for the cleanup's wait
}

func TestSlotDeadline(t *testing.T) {
	m := newFake()
	m.delay = 500 * time.Millisecond
	ts := startLoaded(t, m, serve.WithMaxConcurrency(1), serve.WithRequestTimeout(100*time.Millisecond))
	first := make(chan answer, 1)
	go func() { first <- post(t, ts.url, "application/json", readFixture(t, "cases.json")) }()
	time.Sleep(50 * time.Millisecond)
	a := post(t, ts.url, "application/json", readFixture(t, "cases.json"))
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.errorText(t), "busy") {
		t.Fatalf("queued request: %d %s, want 503 busy", a.status, a.body)
	}
	if a := <-first; a.status != 200 {
		t.Fatalf("first request: %d", a.status)
	}
}
