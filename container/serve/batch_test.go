package serve_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/container/serve/inputheader"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/pipeline"
)

// csvLines reads an answer's CSV records.
func csvLines(t *testing.T, body []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("answer is not CSV: %v\n%s", err, body)
	}
	return recs
}

// TestBatchCSVOneLinePerRow: under batch transform (SAGEMAKER_BATCH=true) a CSV body is
// answered one line per line, so the assembled .out file joins its input line by line:
// each row gets its group's prediction, and a header line only where the input had one.
func TestBatchCSVOneLinePerRow(t *testing.T) {
	dir, table := trainFixture(t)
	ts := startServer(t, serve.LoadDir(dir), serve.WithBatch(true))
	waitReady(t, ts.url)
	head, rowsText, _ := bytes.Cut(table, []byte("\n"))
	rows := strings.Split(strings.TrimRight(string(rowsText), "\n"), "\n")

	// SplitType None: the whole file, header included
	a := post(t, ts.url, "text/csv", table)
	if a.status != http.StatusOK {
		t.Fatalf("%d %s", a.status, a.body)
	}
	got := csvLines(t, a.body)
	if len(got) != len(rows)+1 || got[0][0] != "subject_id" {
		t.Fatalf("%d answer lines for %d input lines (first %q)", len(got), len(rows)+1, got[0])
	}
	in := csv.NewReader(strings.NewReader(string(head) + "\n" + string(rowsText)))
	inRecs, err := in.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i][0] != inRecs[i][0] || got[i][1] != inRecs[i][1][:10] {
			t.Fatalf("answer line %d is for (%s, %s); input line %d is (%s, %s)", i+1, got[i][0], got[i][1], i+1, inRecs[i][0], inRecs[i][1])
		}
	}
	// rows 1 and 2 are one group (subject 10000, 2126-12-19): the same prediction
	if strings.Join(got[1], ",") != strings.Join(got[2], ",") {
		t.Errorf("one group's rows got different answers:\n%q\n%q", got[1], got[2])
	}

	// SplitType Line: mini-batches without a header; the assembled output has none inside
	var assembled []byte
	for _, part := range [][]string{rows[:7], rows[7:]} {
		a := post(t, ts.url, "text/csv", []byte(strings.Join(part, "\n")+"\n"))
		if a.status != http.StatusOK {
			t.Fatalf("%d %s", a.status, a.body)
		}
		assembled = append(assembled, a.body...)
	}
	out := csvLines(t, assembled)
	if len(out) != len(rows) {
		t.Fatalf("%d assembled lines for %d input lines", len(out), len(rows))
	}
	for i, rec := range out {
		if rec[0] == "subject_id" {
			t.Fatalf("header inside the assembled output at line %d", i+1)
		}
	}

	// without batch transform, CSV stays one answer per group
	ts2 := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts2.url)
	if n := len(csvLines(t, post(t, ts2.url, "text/csv", table).body)); n >= len(rows)+1 {
		t.Errorf("real-time CSV: %d lines for %d rows, want one per group", n, len(rows))
	}
}

// TestHeaderlessCSVWithoutStoredHeader: a model that does not know its column order
// refuses header-less rows saying the header is missing, not "empty column name".
func TestHeaderlessCSVWithoutStoredHeader(t *testing.T) {
	dir, table := trainFixture(t)
	if err := os.Remove(filepath.Join(dir, inputheader.File)); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	_, rowsText, _ := bytes.Cut(table, []byte("\n"))
	a := post(t, ts.url, "text/csv", rowsText)
	if msg := a.errorText(t); a.status != http.StatusBadRequest || !strings.HasPrefix(msg, "body:1:") ||
		!strings.Contains(msg, "no header line") || !strings.Contains(msg, inputheader.File) {
		t.Errorf("%d %q, want 400 saying the header line is missing", a.status, msg)
	}
	if a := post(t, ts.url, "text/csv", table); a.status != http.StatusOK {
		t.Errorf("with the header: %d %s", a.status, a.body)
	}
}

// TestPreparedModelKnowsColumnOrder: a model trained on `prepare`'s output stores the
// source table's header, so header-less rows are read as with a raw-table model.
func TestPreparedModelKnowsColumnOrder(t *testing.T) {
	root := t.TempDir()
	dockertest.CopyTree(t, filepath.Join("..", "testdata", "opt_ml", "basic"), root)
	trainDir := filepath.Join(root, "input", "data", "train")
	table, err := os.ReadFile(filepath.Join(trainDir, "synthetic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	prepared := filepath.Join(t.TempDir(), "prepared")
	if _, err := pipeline.Prepare(context.Background(), pipeline.PrepareOptions{Inputs: []string{filepath.Join(trainDir, "synthetic.csv")},
		Output: prepared, Fractions: [3]float64{1, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(trainDir)
	dockertest.CopyTree(t, filepath.Join(prepared, "train"), trainDir)
	var log bytes.Buffer
	if err := trainer.Train(context.Background(), trainer.Options{Root: root, Stderr: &log}); err != nil {
		t.Fatalf("train: %v\n%s", err, log.String())
	}
	ts := startServer(t, serve.LoadDir(filepath.Join(root, "model")))
	waitReady(t, ts.url)
	_, rowsText, _ := bytes.Cut(table, []byte("\n"))
	if a := post(t, ts.url, "text/csv", rowsText); a.status != http.StatusOK {
		t.Errorf("header-less rows to a model trained on prepared data: %d %s", a.status, a.body)
	}
}

// TestDrugRepresentationMismatch: names sent to a model trained on P0..Pn embeddings (or
// embeddings to one trained on names) get 400 with the reason, not plausible numbers.
func TestDrugRepresentationMismatch(t *testing.T) {
	dir, table := trainFixture(t)
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	names := []byte(`{"pre": {"ph": 7.4}, "prescriptions": [{"drug": "heparin", "dose": 5, "unit": "13"}]}`)
	a := post(t, ts.url, "application/json", names)
	if msg := a.errorText(t); a.status != http.StatusBadRequest || !strings.Contains(msg, "prescriptions[0].drug") ||
		!strings.Contains(msg, pipeline.DrugsPColumns) {
		t.Errorf("JSON drug name: %d %q, want 400 naming the field and the training embeddings", a.status, msg)
	}
	// the training rows with P0..Pn swapped for a drug name column
	recs, err := csv.NewReader(bytes.NewReader(table)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for i, rec := range recs[:3] {
		var kept []string
		for j, c := range rec {
			if !strings.HasPrefix(recs[0][j], "P") {
				kept = append(kept, c)
			}
		}
		if i == 0 {
			kept = append(kept, "prescription_drug")
		} else {
			kept = append(kept, "heparin")
		}
		w.Write(kept)
	}
	w.Flush()
	a = post(t, ts.url, "text/csv", b.Bytes())
	if msg := a.errorText(t); a.status != http.StatusBadRequest || !strings.Contains(msg, pipeline.DrugsNames) || !strings.Contains(msg, pipeline.DrugsPColumns) {
		t.Errorf("CSV drug names: %d %q, want 400 naming both ways", a.status, msg)
	}

	// the same model told it was trained on names refuses embeddings
	var nb bytes.Buffer
	nw := csv.NewWriter(&nb)
	nw.Write(strings.Split(strings.TrimSpace(b.String()[:strings.IndexByte(b.String(), '\n')]), ","))
	nw.Flush()
	if err := os.WriteFile(filepath.Join(dir, inputheader.File), nb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts2.url)
	emb := []byte(`{"pre": {"ph": 7.4}, "prescriptions": [{"embedding": [0,0,0,0,0,0,0,0], "dose": 5, "unit": "13"}]}`)
	a = post(t, ts2.url, "application/json", emb)
	if msg := a.errorText(t); a.status != http.StatusBadRequest || !strings.Contains(msg, "prescriptions[0].embedding") || !strings.Contains(msg, pipeline.DrugsNames) {
		t.Errorf("JSON embedding to a names model: %d %q, want 400", a.status, msg)
	}
	if a := post(t, ts2.url, "application/json", names); a.status != http.StatusOK {
		t.Errorf("JSON drug name to a names model: %d %s", a.status, a.body)
	}
}
