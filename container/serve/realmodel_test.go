package serve_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/container/serve/inputheader"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

var tinyAnalytes = []string{"ph", "pco2", "po2", "baseexcess"}

var tinyUnits = []string{"mg", "UNIT", "7"}

// tinySamples makes n samples whose post values depend on the prescriptions, with some
// values missing, in the units a blood-gas table has.
func tinySamples(n, dim int, seed uint64) []pipeline.Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	base := []float32{7.35, 45, 90, -1}
	out := make([]pipeline.Sample, n)
	for i := range out {
		s := pipeline.Sample{Subject: fmt.Sprintf("s%d", i), Start: "2125-01-01"}
		for a, b := range base {
			v := b + float32(r.NormFloat64())*(0.05+float32(a))
			s.Pre = append(s.Pre, v)
			s.PreObserved = append(s.PreObserved, r.Float64() > 0.2)
			s.Post = append(s.Post, v+float32(r.NormFloat64())*0.1)
			s.PostObserved = append(s.PostObserved, r.Float64() > 0.3)
		}
		for k := 0; k < 1+r.IntN(3); k++ {
			row := make([]float32, dim)
			for d := range row {
				row[d] = float32(r.NormFloat64())
			}
			s.Embeddings = append(s.Embeddings, row)
			s.Doses = append(s.Doses, float32(r.IntN(500)))
			s.Units = append(s.Units, tinyUnits[r.IntN(len(tinyUnits))])
			s.Post[0] += row[0] * 0.01
		}
		out[i] = s
	}
	return out
}

// trainTiny trains and saves a small model; it returns the folder and the in-memory
// model whose predictions the server must reproduce.
func trainTiny(t testing.TB, arch string) (string, *model.Model) {
	t.Helper()
	return trainTinyWith(t, arch, nil)
}

func trainTinyWith(t testing.TB, arch string, hparams map[string]string) (string, *model.Model) {
	t.Helper()
	const dim = 8
	layout := pipeline.Layout{Analytes: tinyAnalytes, EmbeddingDim: dim, BlockRows: 4, BlockFeatures: dim + 2}
	train, val := tinySamples(24, dim, 1), tinySamples(8, dim, 2)
	sc, err := pipeline.FitScaler(train, layout)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Config{Architecture: arch, LSTMUnits: 6, EncoderUnits: 6, DropoutRate: 0.1, Layout: layout}, sc, 7)
	if err != nil {
		t.Fatal(err)
	}
	m.SetHyperparameters(hparams)
	if _, err := m.Train(context.Background(), train, val, model.TrainOptions{Epochs: 2, BatchSize: 8, LearningRate: 0.01, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestRealModelRoundTrips(t *testing.T) {
	for _, arch := range []string{model.ArchPooledResidual, model.ArchSeed} {
		t.Run(arch, func(t *testing.T) {
			dir, m := trainTiny(t, arch)
			ts := startServer(t, serve.LoadDir(dir))
			waitReady(t, ts.url)
			version, err := serve.DirVersion(dir)
			if err != nil {
				t.Fatal(err)
			}

			cases := tinySamples(5, 8, 99)
			cases[1].Doses[0] = float32(math.NaN()) // a missing dose
			for i := range cases {
				cases[i].Post, cases[i].PostObserved = nil, nil
			}
			want, err := m.Predict(cases)
			if err != nil {
				t.Fatal(err)
			}

			// JSON: one request with every case
			a := post(t, ts.url, "application/json", jsonCases(t, cases))
			if a.status != http.StatusOK {
				t.Fatalf("JSON status %d: %s", a.status, a.body)
			}
			r := decodeJSON(t, a.body)
			if r.ModelVersion != version || !strings.HasPrefix(version, "sha256:") {
				t.Errorf("model version %q, want %q", r.ModelVersion, version)
			}
			var got [][]float32
			for _, p := range r.Predictions {
				got = append(got, p.Post.Vals)
			}
			if err := sameBits(got, want); err != nil {
				t.Errorf("JSON answer differs from Predict: %v", err)
			}

			// CSV: the same cases in the final-table format
			a = post(t, ts.url, "text/csv", csvCases(cases, 8))
			if a.status != http.StatusOK {
				t.Fatalf("CSV status %d: %s", a.status, a.body)
			}
			_, keys, vals := decodeCSV(t, a.body)
			if err := sameBits(vals, want); err != nil {
				t.Errorf("CSV answer differs from Predict: %v", err)
			}
			if len(keys) != len(cases) || keys[0] != [2]string{cases[0].Subject, cases[0].Start} {
				t.Errorf("CSV keys %v", keys)
			}

			// drug names go through the built-in text embedder
			named := cases[0]
			named.Embeddings = append([][]float32{pipeline.EmbedText("Vasopressin", 8)}, cases[0].Embeddings[1:]...)
			wantNamed, err := m.Predict([]pipeline.Sample{named})
			if err != nil {
				t.Fatal(err)
			}
			body := jsonCases(t, []pipeline.Sample{named})
			body = bytes.Replace(body, []byte(embeddingJSON(named.Embeddings[0])), []byte(`"drug":"Vasopressin"`), 1)
			a = post(t, ts.url, "application/json", body)
			if a.status != http.StatusOK {
				t.Fatalf("named status %d: %s", a.status, a.body)
			}
			if err := sameBits([][]float32{decodeJSON(t, a.body).Predictions[0].Post.Vals}, wantNamed); err != nil {
				t.Errorf("drug-name answer differs from Predict: %v", err)
			}

			// the trained vocabulary decides which units are known
			a = post(t, ts.url, "application/json", []byte(`{"prescriptions":[{"drug":"x","dose":1,"unit":"mcg"}]}`))
			if a.status != http.StatusBadRequest || !strings.Contains(a.errorText(t), `unknown unit "mcg"`) {
				t.Errorf("unknown unit: %d %s", a.status, a.body)
			}
		})
	}
}

// TestRealModelConcurrent sends distinct cases from several clients at once; each answer
// must be the model's own prediction for that case (the model pools its graphs, so a
// mixed-up buffer would show here, and -race watches the rest).
func TestRealModelConcurrent(t *testing.T) {
	dir, m := trainTiny(t, model.ArchPooledResidual)
	ts := startServer(t, serve.LoadDir(dir), serve.WithMaxConcurrency(4))
	waitReady(t, ts.url)
	cases := tinySamples(24, 8, 7)
	want, err := m.Predict(cases)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(cases))
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cases); i += 6 {
				a := post(t, ts.url, "application/json", jsonCases(t, cases[i:i+1]))
				if a.status != http.StatusOK {
					errs <- fmt.Errorf("case %d: status %d: %s", i, a.status, a.body)
					continue
				}
				if err := sameBits([][]float32{decodeJSON(t, a.body).Predictions[0].Post.Vals}, want[i:i+1]); err != nil {
					errs <- fmt.Errorf("case %d: %v", i, err)
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

func TestRealModelNoPrescriptions(t *testing.T) {
	dir, m := trainTiny(t, model.ArchPooledResidual)
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	a := post(t, ts.url, "application/json", []byte(`{"pre":{"ph":7.4},"prescriptions":[]}`))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	want, err := m.Predict([]pipeline.Sample{{Pre: []float32{7.4, 0, 0, 0}, PreObserved: []bool{true, false, false, false}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sameBits([][]float32{decodeJSON(t, a.body).Predictions[0].Post.Vals}, want); err != nil {
		t.Error(err)
	}
}

func TestRealModelPrescriptionLimit(t *testing.T) {
	rx := func(n int) []byte {
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, `{"drug":"Heparin","dose":1,"unit":"mg"}`)
		}
		return []byte(`{"prescriptions":[` + strings.Join(parts, ",") + `]}`)
	}
	tests := []struct {
		name    string
		arch    string
		hparams map[string]string
		limit   int
	}{
		{"seed block rows", model.ArchSeed, nil, 4},
		{"trained max_prescriptions", model.ArchPooledResidual, map[string]string{"max_prescriptions": "2"}, 2},
		{"no training limit", model.ArchPooledResidual, nil, serve.DefaultMaxPrescriptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := trainTinyWith(t, tc.arch, tc.hparams)
			ts := startServer(t, serve.LoadDir(dir))
			waitReady(t, ts.url)
			if a := post(t, ts.url, "application/json", rx(tc.limit)); a.status != http.StatusOK {
				t.Fatalf("%d prescriptions: %d %s", tc.limit, a.status, a.body)
			}
			a := post(t, ts.url, "application/json", rx(tc.limit+1))
			if a.status != http.StatusBadRequest || !strings.Contains(a.errorText(t), fmt.Sprintf("the model takes at most %d", tc.limit)) {
				t.Fatalf("%d prescriptions: %d %s, want 400 naming the limit", tc.limit+1, a.status, a.body)
			}
		})
	}
}

func TestRealModelOverflowIs400(t *testing.T) {
	dir, _ := trainTiny(t, model.ArchPooledResidual)
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	tests := []struct {
		name, contentType, body, want string
	}{
		{"json", "application/json", `{"cases":[{"prescriptions":[]},{"pre":{"ph":3e38},"prescriptions":[]}]}`, "cases[1].pre.ph: 3e+38; expected a finite number of magnitude at most 1e9"},
		{"csv", "text/csv", "subject_id,prescription_start,prescription_drug,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph\n7,2125-01-01,Heparin,1,mg,-3e38\n",
			"body:2:27: column pre_ph: expected a finite number"}, // the table reader's own bound
		// each value in float32 range but past the tables' bound: 400 naming the value, as in CSV
		{"json embedding", "application/json", `{"cases":[{"prescriptions":[{"embedding":[0,0,3e38,0,0,0,0,0],"dose":1,"unit":"mg"}]}]}`,
			"cases[0].prescriptions[0].embedding[2]: 3e+38; expected a finite number of magnitude at most 1e9"},
		{"jsonlines embedding", "application/jsonlines", `{"prescriptions":[]}` + "\n" + `{"prescriptions":[{"embedding":[0,0,0,0,0,0,0,-3e38],"dose":1,"unit":"mg"}]}`,
			"line 2: prescriptions[0].embedding[7]: -3e+38; expected a finite number of magnitude at most 1e9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, ts.url, tc.contentType, []byte(tc.body))
			if a.status != http.StatusBadRequest || !strings.Contains(a.errorText(t), tc.want) {
				t.Fatalf("%d %s, want 400 containing %q", a.status, a.body, tc.want)
			}
		})
	}
}

// TestExampleCasesFile keeps the README's example request valid for a model with the
// original tables' layout (25 analytes, 128-wide embeddings, numeric unit codes) trained
// on a table with P0..P127 columns, as the README's first command trains.
func TestExampleCasesFile(t *testing.T) {
	dir := productionModel(t, model.ArchPooledResidual)
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, filepath.Join("..", "..", "pipeline", "testdata", "synthetic.csv.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	header, err := csv.NewReader(zr).Read()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inputheader.Write(dir, header); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	a := post(t, ts.url, "application/json", readFixture(t, "example-cases.json"))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	r := decodeJSON(t, a.body)
	if len(r.Predictions) != 2 || r.Predictions[1].ID != "patient-2" || len(r.Predictions[0].Post.Vals) != 25 {
		t.Fatalf("answer %s", a.body)
	}
}

func TestLoadDirErrors(t *testing.T) {
	s := serve.New(serve.LoadDir(t.TempDir()))
	err := s.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "model.json") {
		t.Fatalf("Load of an empty folder = %v, want an error naming model.json", err)
	}
}

func embeddingJSON(e []float32) string {
	b, _ := json.Marshal(e)
	return `"embedding":` + string(b)
}

// jsonCases writes samples as a JSON request, pre values by analyte name.
func jsonCases(t testing.TB, samples []pipeline.Sample) []byte {
	var sb strings.Builder
	sb.WriteString(`{"cases":[`)
	for i, s := range samples {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%q,"pre":{`, s.Subject)
		first := true
		for a, name := range tinyAnalytes {
			if !s.PreObserved[a] {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			fmt.Fprintf(&sb, "%q:%s", name, f32(s.Pre[a]))
		}
		sb.WriteString(`},"prescriptions":[`)
		for k, d := range s.Doses {
			if k > 0 {
				sb.WriteByte(',')
			}
			dose := "null"
			if !math.IsNaN(float64(d)) {
				dose = f32(d)
			}
			fmt.Fprintf(&sb, `{%s,"dose":%s,"unit":%q}`, embeddingJSON(s.Embeddings[k]), dose, s.Units[k])
		}
		sb.WriteString(`]}`)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// csvCases writes samples in the final-table format with drug-name-free P columns.
func csvCases(samples []pipeline.Sample, dim int) []byte {
	var b bytes.Buffer
	b.WriteString("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx")
	for _, a := range tinyAnalytes {
		b.WriteString(",pre_" + a)
	}
	for d := 0; d < dim; d++ {
		fmt.Fprintf(&b, ",P%d", d)
	}
	b.WriteByte('\n')
	for _, s := range samples {
		for k, d := range s.Doses {
			dose := ""
			if !math.IsNaN(float64(d)) {
				dose = f32(d)
			}
			fmt.Fprintf(&b, "%s,%sT00:00:00,%s,%s", s.Subject, s.Start, dose, s.Units[k])
			for a := range tinyAnalytes {
				v := "-1.0"
				if s.PreObserved[a] {
					v = f32(s.Pre[a])
				}
				b.WriteString("," + v)
			}
			for _, e := range s.Embeddings[k] {
				b.WriteString("," + f32(e))
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func f32(v float32) string { return fmt.Sprint(v) }

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
