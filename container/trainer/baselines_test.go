package trainer

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/model"
)

// TestTrainKeepsUntrainedWeights: when no epoch beats the untrained network (post = pre)
// on validation, the job still succeeds, publishes that model and says so: best epoch 0.
// Here the validation subjects' post values equal their pre values, so the untrained
// weights score 0 and no epoch can do better.
func TestTrainKeepsUntrainedWeights(t *testing.T) {
	root := copyFixture(t, "basic")
	train := filepath.Join(root, "input", "data", "train", "synthetic.csv")
	recs := readCSV(t, train)
	header := recs[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var keep, val [][]string
	for _, r := range recs[1:] {
		if strings.HasSuffix(r[col["subject_id"]], "1") || strings.HasSuffix(r[col["subject_id"]], "2") {
			r = append([]string(nil), r...)
			for i, h := range header {
				if a, ok := strings.CutPrefix(h, "post_"); ok && !strings.HasSuffix(a, "time") {
					r[i] = r[col["pre_"+a]]
				}
			}
			val = append(val, r)
		} else {
			keep = append(keep, r)
		}
	}
	if len(val) == 0 || len(keep) == 0 {
		t.Fatalf("fixture split %d/%d rows", len(keep), len(val))
	}
	writeCSV(t, train, append([][]string{header}, keep...))
	writeCSV(t, filepath.Join(root, "input", "data", "validation", "val.csv"), append([][]string{header}, val...))
	if err := os.WriteFile(filepath.Join(root, "input", "config", "inputdataconfig.json"),
		[]byte(`{"train": {"TrainingInputMode": "File"}, "validation": {"TrainingInputMode": "File"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	if s.BestEpoch != 0 || s.Initial == nil || s.Initial.ValidationLoss != 0 {
		t.Fatalf("best epoch %d, initial %+v; want the untrained weights (epoch 0, validation loss 0)", s.BestEpoch, s.Initial)
	}
	report, _ := os.ReadFile(filepath.Join(root, "output", "data", ReportFile))
	if !strings.Contains(string(report), "no epoch beat the untrained network") {
		t.Errorf("report does not say the untrained weights were kept:\n%s", report)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "validation:loss=0") {
		t.Errorf("closing metric line %q: want the untrained weights' validation loss 0", last)
	}
}

func writeCSV(t *testing.T, path string, recs [][]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.WriteAll(recs)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReportSaysWhenTheModelLoses: report.md names the baselines the model does not beat,
// puts the test split first and shows train and validation loss measured alike.
func TestReportSaysWhenTheModelLoses(t *testing.T) {
	s := &Summary{
		Scores: map[string][]ScoreRow{
			"test":       {{Model: "model", RMSE: 1.3}, {Model: "post_equals_pre", RMSE: 1.2}, {Model: "ridge", RMSE: 1.4}},
			"validation": {{Model: "model", RMSE: 0.9}, {Model: "post_equals_pre", RMSE: 1.2}},
		},
		NotBeaten:  map[string][]string{"test": {"post_equals_pre"}},
		Evaluation: map[string]*model.Metrics{"train": {Scores: model.Scores{MSE: 0.5}}, "validation": {Scores: model.Scores{MSE: 0.8}}},
		Shrink:     map[string]float64{"ph": 0.5, "pco2": 0, "hb": 1},
	}
	var b strings.Builder
	renderReport(&b, s, "")
	out := b.String()
	for _, want := range []string{
		"**The model does not beat post_equals_pre on the test split.**",
		"The model beats every baseline on the validation split.",
		"train 0.5, validation 0.8",
		"2 of 3 analytes keep their learned change, scaled by the factor that fits validation best; these predict post = pre because their change did not lower the validation error with any one validation subject left out: pco2.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "### test") > strings.Index(out, "### validation") {
		t.Error("the test split (unseen subjects) should come first")
	}
}

// TestShrinkSentence: the report says plainly when every analyte or none kept its change.
func TestShrinkSentence(t *testing.T) {
	for _, c := range []struct {
		shrink map[string]float64
		want   string
	}{
		{map[string]float64{"ph": 1, "hb": 0.4}, "every analyte keeps its learned change"},
		{map[string]float64{"ph": 0, "hb": 0}, "no analyte keeps its learned change"},
		{map[string]float64{"ph": 0, "hb": 0.4, "na": 0}, "1 of 3 analytes keep their learned change"},
	} {
		if got := shrinkSentence(c.shrink); !strings.Contains(got, c.want) {
			t.Errorf("%v: %q, want it to say %q", c.shrink, got, c.want)
		}
	}
}

// readCSV reads the whole CSV file at path.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
