package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/pipeline"
)

// TestCVRunsInProcess: launcher cv trains every fold here (no Docker, no AWS), prints
// the table and writes cv.json and cv.png; bad flags are usage errors.
func TestCVRunsInProcess(t *testing.T) {
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "cv")
	r := h.run("cv", "--input", filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv"),
		"--folds", "3", "--seed", "4", "--epochs", "2", "--hp", "lstm_units=8", "--output", out)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	for _, want := range []string{"3 folds by subject (seed 4)", "fold 1:", "fold 3:", "| model |", "| ridge |", "| post_equals_pre |", "| train_mean |"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "cv.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Folds           int               `json:"folds"`
		Hyperparameters map[string]string `json:"hyperparameters"`
		Methods         []struct {
			Method string  `json:"method"`
			Mean   float64 `json:"mean_rmse"`
		} `json:"methods"`
		PerFold []json.RawMessage `json:"per_fold"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Folds != 3 || len(got.PerFold) != 3 || len(got.Methods) != 4 || got.Hyperparameters["epochs"] != "2" || got.Hyperparameters["seed"] != "4" {
		t.Fatalf("cv.json: %+v", got)
	}
	if st, err := os.Stat(filepath.Join(out, "cv.png")); err != nil || st.Size() == 0 {
		t.Fatalf("cv.png: %v", err)
	}
	for _, bad := range [][]string{{"cv"}, {"cv", "--input", "x.csv", "--folds", "1"}, {"cv", "--input", "s3://b/k.csv"},
		{"cv", "--input", "x.csv", "--hp", "lstm_units=0"}, {"cv", "--input", "x.csv", "--hp", "folds=3"}} {
		if r := h.run(bad...); ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: %v, want a usage error", bad, r.err)
		}
	}
}

// TestPrepareMaxGapHours: prepare reports the test gaps and drops groups beyond
// --max-gap-hours; a negative limit is a usage error.
func TestPrepareMaxGapHours(t *testing.T) {
	h := newHarness(t)
	in := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	r := h.run("prepare", "--input", in, "--output", filepath.Join(t.TempDir(), "p"), "--max-gap-hours", "30")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stdout)
	}
	for _, want := range []string{"test gaps (hours):", "max gap 30 h:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("prepare output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := h.run("prepare", "--input", in, "--output", t.TempDir(), "--max-gap-hours", "-1"); ExitCode(r.err) != ExitUsage {
		t.Errorf("--max-gap-hours -1: %v, want a usage error", r.err)
	}
}

// BenchmarkCVReal times the README's real-data command (target: under 2 minutes on the
// 2-core build machine); it needs the original table:
//
//	BLUEBLOOD_REAL_DATA=../shared/data/blue-blood-final.csv go test ./launcher/cli -run '^$' -bench CVReal -benchtime 1x
func BenchmarkCVReal(b *testing.B) {
	path := os.Getenv("BLUEBLOOD_REAL_DATA")
	if path == "" {
		b.Skip("set BLUEBLOOD_REAL_DATA to blue-blood-final.csv")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join("..", "..", path)
	}
	for b.Loop() {
		var out bytes.Buffer
		if err := DefaultEnv(nil, &out, &out).Run(context.Background(), []string{"cv", "--input", path, "--folds", "5", "--seed", "42", "--output", b.TempDir()}); err != nil {
			b.Fatalf("%v\n%s", err, out.String())
		}
	}
}

// cv limits prescription rows as the trainer does: with a layout that has no block
// (BlockRows 0), the seed architecture keeps max_prescriptions instead of dropping it.
func TestLimitForArchitectureAsTrainer(t *testing.T) {
	smp := pipeline.Sample{Subject: "a", Start: "2020-01-01", Pre: []float32{1}, PreObserved: []bool{true}, Post: []float32{1}, PostObserved: []bool{true}}
	for range 8 {
		smp.Embeddings = append(smp.Embeddings, []float32{0, 1})
		smp.Doses = append(smp.Doses, 1)
		smp.Units = append(smp.Units, "mg")
	}
	_, hp, err := trainer.ParseHyperparameters(map[string]string{"architecture": "seed", "max_prescriptions": "5"})
	if err != nil {
		t.Fatal(err)
	}
	for blockRows, want := range map[int]int{0: 5, 20: 5, 3: 3} {
		ds := &pipeline.Dataset{Layout: pipeline.Layout{Analytes: []string{"x"}, EmbeddingDim: 2, BlockRows: blockRows}, Samples: []pipeline.Sample{smp}}
		out, err := limitForArchitecture(ds, hp)
		if err != nil {
			t.Fatal(err)
		}
		if got := out[0].NumRx(); got != want || hp.RowLimit(ds.Layout) != want {
			t.Errorf("block rows %d: cv kept %d rows, the trainer's limit is %d; want %d", blockRows, got, hp.RowLimit(ds.Layout), want)
		}
	}
}

// TestCVSliceFlag: --slice takes DRUG=ANALYTE or a drug whose target is known; anything
// else is a usage error naming the form, and an analyte the data lacks is refused.
func TestCVSliceFlag(t *testing.T) {
	var f sliceFlag
	for _, ok := range []string{"Potassium Chloride", "insulin", "Furosemide=potassium"} {
		if err := f.Set(ok); err != nil {
			t.Errorf("--slice %q: %v", ok, err)
		}
	}
	if f[0].Analyte != "potassium" || f[1].Analyte != "glucose" || f[2].Drug != "Furosemide" {
		t.Errorf("slices %+v", f)
	}
	h := newHarness(t)
	in := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	for _, c := range []struct{ slice, want string }{
		{"Furosemide", "expected DRUG=ANALYTE"},
		{"=ph", "expected DRUG=ANALYTE"},
		{"Insulin=hba1c", `analyte "hba1c" is not in the data`},
	} {
		r := h.run("cv", "--input", in, "--folds", "2", "--epochs", "1", "--slice", c.slice, "--output", filepath.Join(t.TempDir(), "cv"))
		if r.err == nil || !strings.Contains(r.err.Error()+r.stderr, c.want) {
			t.Errorf("--slice %q: %v %s, want %q", c.slice, r.err, r.stderr, c.want)
		}
	}
}
