package trainer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// lineHook is a stdout that calls fn with every complete line.
type lineHook struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	part []byte
	fn   func(line string)
}

func (h *lineHook) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Write(p)
	h.part = append(h.part, p...)
	for {
		i := bytes.IndexByte(h.part, '\n')
		if i < 0 {
			break
		}
		line := string(h.part[:i])
		h.part = h.part[i+1:]
		if h.fn != nil {
			h.fn(line)
		}
	}
	return len(p), nil
}

type trainResult struct {
	err    error
	stdout string
	stderr string
}

// runTrain runs Train against root; onLine (optional) sees each stdout and log line.
func runTrain(t *testing.T, ctx context.Context, root string, onLine func(string)) trainResult {
	t.Helper()
	out := &lineHook{fn: onLine}
	errBuf := &lineHook{fn: onLine}
	err := Train(ctx, Options{Root: root, Stdout: out, Stderr: errBuf,
		Getenv: func(k string) string {
			if k == "TRAINING_JOB_NAME" {
				return "blueblood-test-job"
			}
			return ""
		}})
	return trainResult{err: err, stdout: out.buf.String(), stderr: errBuf.buf.String()}
}

func setHyperparameters(t *testing.T, root string, hp map[string]string) {
	t.Helper()
	data, _ := json.Marshal(hp)
	if err := os.WriteFile(filepath.Join(root, hpPath), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readSummary(t *testing.T, root string) *Summary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "output", "data", MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Summary
		Evaluation map[string]json.RawMessage `json:"evaluation"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	out := s.Summary
	out.Evaluation = map[string]*model.Metrics{}
	for k, raw := range s.Evaluation {
		var m model.Metrics
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("metrics.json evaluation %s: %v", k, err)
		}
		out.Evaluation[k] = &m
	}
	return &out
}

func TestTrainBasicFixture(t *testing.T) {
	root := copyFixture(t, "basic")
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "output", "failure")); err == nil {
		t.Error("output/failure written on success")
	}

	// The model loads and predicts; model/ holds no staging leftovers.
	m, err := model.Load(filepath.Join(root, "model"))
	if err != nil {
		t.Fatalf("model.Load: %v", err)
	}
	if got := m.Hyperparameters()["learning_rate"]; got != "0.01" {
		t.Errorf("saved hyperparameter learning_rate=%q, want 0.01", got)
	}
	for _, name := range listDir(t, filepath.Join(root, "model")) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("model/ holds %s", name)
		}
	}

	s := readSummary(t, root)
	if s.Status != StatusCompleted || s.EpochsRun != 3 || len(s.History) != 3 || s.BestEpoch < 1 {
		t.Errorf("summary status=%s epochs_run=%d history=%d best=%d", s.Status, s.EpochsRun, len(s.History), s.BestEpoch)
	}
	if s.BestEpoch > 0 && len(s.Shrink) != len(s.Data.Analytes) {
		t.Errorf("best epoch %d but shrink factors for %d of %d analytes", s.BestEpoch, len(s.Shrink), len(s.Data.Analytes))
	}
	if s.TrainingJobName != "blueblood-test-job" {
		t.Errorf("training_job_name %q", s.TrainingJobName)
	}
	// validation_fraction 0.25 and the default test_fraction 0.15 of the 35 samples, in
	// whole subjects (12 in all)
	if d, e := s.Data.Validation, s.Data.Test; d.Source != "split from train" || e.Source != "split from train" ||
		d.Samples < 7 || d.Samples > 11 || e.Samples < 3 || e.Samples > 8 || d.Subjects+e.Subjects+s.Data.Train.Subjects != 12 {
		t.Errorf("split %+v / %+v / %+v; want about a quarter of the 35 samples for validation and 15%% for test, in whole subjects", s.Data.Train, s.Data.Validation, s.Data.Test)
	}
	val := s.Evaluation["validation"]
	if val == nil || val.Observed == 0 || val.RMSE <= 0 {
		t.Fatalf("validation evaluation %+v", val)
	}
	for _, b := range []string{model.BaselineTrainMean, model.BaselinePostEqualsPre} {
		if sc, ok := val.Baselines[b]; !ok || sc.RMSE <= 0 {
			t.Errorf("baseline %s missing or zero: %+v", b, sc)
		}
	}
	if s.PredictionsSplit != "test" {
		t.Errorf("predictions split %q, want test (unseen subjects)", s.PredictionsSplit)
	}
	// the learned effects of the most frequent drugs, on the test subjects
	if len(s.DrugEffects) == 0 || len(s.DrugEffects) > reportedDrugs {
		t.Errorf("%d drug effects, want 1 to %d", len(s.DrugEffects), reportedDrugs)
	}
	for _, e := range s.DrugEffects {
		if e.Cases < 1 || e.Cases > s.Data.Test.Samples || len(e.Mean) != len(s.Data.Analytes) || len(e.MeanStd) != len(s.Data.Analytes) {
			t.Errorf("drug effect %+v: want 1 to %d test cases and a change per analyte", e, s.Data.Test.Samples)
		}
	}
	if rep, err := os.ReadFile(filepath.Join(root, "output", "data", ReportFile)); err != nil || !strings.Contains(string(rep), "## What the model learned each drug does") ||
		(len(s.DrugEffects) > 0 && !strings.Contains(string(rep), "| "+s.DrugEffects[0].Drug+" |")) {
		t.Errorf("report.md lacks the learned-effects table (%v)", err)
	}
	tst := s.Evaluation["test"]
	if tst == nil {
		t.Fatal("no test evaluation")
	}

	// predictions.csv: one row per observed test target.
	f, err := os.Open(filepath.Join(root, "output", "data", PredictionsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "subject_id,prescription_start,analyte,pre,observed,predicted" {
		t.Errorf("header %v", rows[0])
	}
	if len(rows)-1 != tst.Observed || len(rows)-1 != s.Data.Test.Targets {
		t.Errorf("%d prediction rows, want %d observed test targets", len(rows)-1, tst.Observed)
	}

	// The split is by subject and the scaler comes from the training split alone: redo
	// the split the fixture asks for (validation_fraction 0.25, test 0.15, seed 7) and compare.
	all, _, err := pipeline.ReadTables(context.Background(),
		[]string{filepath.Join(root, "input", "data", "train", "synthetic.csv")}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trainSplit, _, testSplit := pipeline.SplitBySubject(all.Samples, [3]float64{0.6, 0.25, 0.15}, 7)
	trainSubjects := map[string]bool{}
	for _, smp := range trainSplit {
		trainSubjects[smp.Subject] = true
	}
	for _, row := range rows[1:] {
		if trainSubjects[row[0]] {
			t.Fatalf("subject %s is in both the training split and the test predictions", row[0])
		}
	}
	// predictions.csv carries the observed values in original units, not scaled ones.
	// and the pre value the model was given, empty where it was missing
	observed, pre := map[string]string{}, map[string]string{}
	for _, smp := range testSplit {
		for j, name := range all.Layout.Analytes {
			if smp.PostObserved[j] {
				key := smp.Subject + "," + smp.Start + "," + name
				observed[key] = strconv.FormatFloat(float64(smp.Post[j]), 'g', -1, 32)
				if smp.PreObserved[j] {
					pre[key] = strconv.FormatFloat(float64(smp.Pre[j]), 'g', -1, 32)
				}
			}
		}
	}
	for _, row := range rows[1:] {
		key := strings.Join(row[:3], ",")
		if want, ok := observed[key]; !ok || row[4] != want || row[3] != pre[key] {
			t.Fatalf("predictions.csv row %v: pre %q and observed %q, want the raw test values %q and %q", row, row[3], row[4], pre[key], want)
		}
	}
	if len(observed) != len(rows)-1 {
		t.Errorf("%d prediction rows, want one per observed test target (%d)", len(rows)-1, len(observed))
	}
	if len(testSplit) != s.Data.Test.Samples {
		t.Errorf("test split has %d samples, want %d", s.Data.Test.Samples, len(testSplit))
	}
	wantScaler, err := pipeline.FitScaler(trainSplit, all.Layout)
	if err != nil {
		t.Fatal(err)
	}
	allScaler, err := pipeline.FitScaler(all.Samples, all.Layout)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.Scaler())
	want, _ := json.Marshal(wantScaler)
	if !bytes.Equal(got, want) {
		t.Errorf("saved scaler is not the one fitted on the training split\n got %s\nwant %s", got, want)
	}
	if whole, _ := json.Marshal(allScaler); bytes.Equal(got, whole) {
		t.Error("saved scaler equals one fitted on train+validation; the test cannot tell them apart")
	}

	for _, name := range []string{LossChartFile, ErrorChartFile} {
		data, _ := os.ReadFile(filepath.Join(root, "output", "data", name))
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	report, _ := os.ReadFile(filepath.Join(root, "output", "data", ReportFile))
	for _, want := range []string{"## Data", "## Hyperparameters", "| learning_rate | 0.01 (set) | " + specDefault("learning_rate") + " |", "### validation", "| train_mean |", "| post_equals_pre |", "![loss](loss.png)"} {
		if !bytes.Contains(report, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{`inputdataconfig {"train":{"TrainingInputMode":"File"}}`, `resourceconfig {"current_host":"algo-1-x7k2q"`, "first epoch finished"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "checkpoints", CheckpointFile)); err != nil {
		t.Errorf("no checkpoint: %v", err)
	}
	checkMetricLines(t, res.stdout, s)
}

// checkMetricLines runs SageMaker's metric regexes over the real stdout: every epoch line
// yields the four per-epoch metrics with the values in metrics.json, and the last value
// of each metric (FinalMetricDataList) is the best epoch's.
func checkMetricLines(t *testing.T, stdout string, s *Summary) {
	t.Helper()
	last := map[string]float64{}
	epochs := 0
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		got := metricdef.Scrape(sc.Text())
		for k, v := range got {
			last[k] = v
		}
		if strings.HasPrefix(sc.Text(), "epoch=") {
			h := s.History[epochs]
			epochs++
			for name, want := range map[string]float64{
				metricdef.TrainLoss: h.TrainLoss, metricdef.ValidationLoss: h.ValidationLoss,
				metricdef.ValidationRMSE: h.ValidationRMSE, metricdef.ValidationMAE: h.ValidationMAE,
			} {
				if v, ok := got[name]; !ok || !close6(v, want) {
					t.Errorf("line %q: %s=%v (found %v), want %v", sc.Text(), name, v, ok, want)
				}
			}
		}
	}
	if epochs != len(s.History) {
		t.Errorf("%d epoch lines, want %d", epochs, len(s.History))
	}
	best := s.History[s.BestEpoch-1]
	if !close6(last[metricdef.ValidationRMSE], best.ValidationRMSE) || !close6(last[metricdef.ValidationLoss], best.ValidationLoss) {
		t.Errorf("last scraped validation:rmse=%v loss=%v, want the best epoch's %v %v", last[metricdef.ValidationRMSE], last[metricdef.ValidationLoss], best.ValidationRMSE, best.ValidationLoss)
	}
	for name, v := range s.Final {
		if !close6(last[name], v) {
			t.Errorf("last scraped %s=%v, metrics.json final %v", name, last[name], v)
		}
	}
}

// close6 compares at the 6 significant digits the log prints.
func close6(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	m := max(abs(a), abs(b))
	return d <= 1e-5*m+1e-12
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestTrainChannelsFixture(t *testing.T) {
	root := copyFixture(t, "channels")
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	if s.Data.Validation.Source != "channel" || s.Data.Test.Source != "channel" || s.Data.Train.Subjects != 10 || s.Data.Test.Subjects != 5 {
		t.Errorf("data %+v", s.Data)
	}
	if got := s.Data.Channels["train"].Files; strings.Join(got, " ") != "part-a/2126/a.csv.gz part-b/b.csv" {
		t.Errorf("train files %v", got)
	}
	if s.PredictionsSplit != "test" || s.Evaluation["test"] == nil {
		t.Errorf("predictions split %q, test evaluation %v", s.PredictionsSplit, s.Evaluation["test"])
	}
	if !strings.Contains(res.stderr, "ignoring README.txt") {
		t.Errorf("log does not mention the ignored README.txt")
	}
	// checkpointconfig.json's /opt/ml/checkpoints maps onto the root.
	if _, err := os.Stat(filepath.Join(root, "checkpoints", CheckpointFile)); err != nil {
		t.Errorf("checkpoint: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	final := metricdef.Scrape(lines[len(lines)-1])
	if v, ok := final[metricdef.TestRMSE]; !ok || !close6(v, s.Evaluation["test"].RMSE) {
		t.Errorf("final line %q: test:rmse %v, want %v", lines[len(lines)-1], v, s.Evaluation["test"].RMSE)
	}
	checkMetricLines(t, res.stdout, s)
}

func TestTrainPreparedChannel(t *testing.T) {
	root := copyFixture(t, "basic")
	train := filepath.Join(root, "input", "data", "train")
	ctx := context.Background()
	ds, _, err := pipeline.ReadTables(ctx, []string{filepath.Join(train, "synthetic.csv")}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := pipeline.FitScaler(ds.Samples, ds.Layout)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(train)
	if err := pipeline.WritePrepared(ctx, train, ds, sc, pipeline.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	res := runTrain(t, ctx, root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	s := readSummary(t, root)
	if !s.Data.Channels["train"].Prepared || s.Data.Channels["train"].Samples != len(ds.Samples) {
		t.Errorf("train channel %+v, want prepared with %d samples", s.Data.Channels["train"], len(ds.Samples))
	}
}

// TestTrainFailures covers every class of bad input: each writes one clear line to
// output/failure, exits non-zero and leaves no model behind.
func TestTrainFailures(t *testing.T) {
	writeFile := func(rel, content string) func(t *testing.T, root string) {
		return func(t *testing.T, root string) {
			p := filepath.Join(root, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(rel string) func(t *testing.T, root string) {
		return func(t *testing.T, root string) { os.RemoveAll(filepath.Join(root, filepath.FromSlash(rel))) }
	}
	tinyValidation := func(t *testing.T, root string) {
		var buf bytes.Buffer
		opt := tinySynth(3, 5)
		opt.EmbeddingDim = 6
		if _, err := pipeline.WriteSynthetic(&buf, opt); err != nil {
			t.Fatal(err)
		}
		writeFile("input/data/validation/v.csv", buf.String())(t, root)
	}
	corruptRow := func(t *testing.T, root string) {
		p := filepath.Join(root, "input/data/train/synthetic.csv")
		data, _ := os.ReadFile(p)
		lines := strings.SplitN(string(data), "\n", 4)
		fields := strings.Split(lines[2], ",")
		fields[5] = "seven" // pre_ph on data line 2 (file line 3)
		lines[2] = strings.Join(fields, ",")
		os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, root string)
		want   string
	}{
		{"misspelt hyperparameter", writeFile(hpPath, `{"lerning_rate":"0.01"}`),
			"input/config/hyperparameters.json: unknown hyperparameter lerning_rate; did you mean learning_rate?"},
		{"out of range hyperparameter", writeFile(hpPath, `{"dropout_rate":"1.5"}`),
			"hyperparameter dropout_rate=1.5: out of range, expected a number in [0, 1)"},
		{"malformed hyperparameters.json", writeFile(hpPath, `{"epochs": 3`), "input/config/hyperparameters.json: line 1 column"},
		{"missing hyperparameters.json", remove(hpPath), "input/config/hyperparameters.json: missing"},
		{"malformed inputdataconfig.json", writeFile("input/config/inputdataconfig.json", `{"train":`), "input/config/inputdataconfig.json: line 1 column"},
		{"pipe mode", writeFile("input/config/inputdataconfig.json", `{"train":{"TrainingInputMode":"Pipe"}}`),
			"channel train: TrainingInputMode Pipe is not supported; use File or FastFile"},
		{"missing train channel", func(t *testing.T, root string) {
			remove("input/data/train")(t, root)
			remove("input/config/inputdataconfig.json")(t, root)
			writeFile("input/data/validation/v.csv", "x")(t, root)
		}, "missing train channel"},
		{"empty train channel", func(t *testing.T, root string) {
			remove("input/data/train/synthetic.csv")(t, root)
		}, "channel train: no .csv or .csv.gz tables and no prepared dataset in input/data/train (it is empty)"},
		{"malformed data row", corruptRow, `input/data/train/synthetic.csv:3:`},
		{"header-only table", writeFile("input/data/train/synthetic.csv", "subject_id,prescription_start,pre_ph,post_ph\n"), "channel train: "},
		{"validation layout differs", func(t *testing.T, root string) {
			remove("input/config/inputdataconfig.json")(t, root)
			tinyValidation(t, root)
		}, "channel validation: feature layout differs from channel train: embedding width 6; expected 8"},
		{"model folder not writable", writeFile("model", "a file where the model folder belongs"), "write model to model: "},
		{"several hosts", writeFile("input/config/resourceconfig.json", `{"current_host":"algo-1","hosts":["algo-1","algo-2"]}`),
			"input/config/resourceconfig.json: 2 hosts (algo-1, algo-2); the trainer runs on a single instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyFixture(t, "basic")
			tt.mutate(t, root)
			res := runTrain(t, context.Background(), root, nil)
			if res.err == nil {
				t.Fatalf("Train succeeded; want failure %q", tt.want)
			}
			if ExitCode(res.err) != ExitFailure {
				t.Errorf("exit code %d, want %d", ExitCode(res.err), ExitFailure)
			}
			data, err := os.ReadFile(filepath.Join(root, "output", "failure"))
			if err != nil {
				t.Fatalf("no failure file: %v", err)
			}
			reason := strings.TrimSuffix(string(data), "\n")
			if !strings.Contains(reason, tt.want) {
				t.Errorf("failure %q\nwant it to contain %q", reason, tt.want)
			}
			if len(data) > MaxFailureBytes || strings.Contains(reason, "\n") || strings.Contains(reason, "goroutine") || strings.Contains(reason, ".go:") {
				t.Errorf("failure file is not one short line without stack: %q", reason)
			}
			if got := listDir(t, filepath.Join(root, "model")); len(got) != 0 {
				t.Errorf("model/ holds %v after a failure", got)
			}
			if strings.Contains(res.stdout, "best epoch=") {
				t.Errorf("final metrics printed for a failed job:\n%s", res.stdout)
			}
		})
	}
}

// TestTrainInterruptAndResume stops a run after epoch 2 (as SIGTERM does), checks what
// it leaves, resumes it, and compares the result with an uninterrupted run.
func TestTrainInterruptAndResume(t *testing.T) {
	hp := map[string]string{"epochs": "4", "lstm_units": "4", "encoder_units": "4", "batch_size": "8",
		"learning_rate": "0.01", "patience": "0", "validation_fraction": "0.25", "seed": "3"}

	whole := copyFixture(t, "basic")
	setHyperparameters(t, whole, hp)
	if res := runTrain(t, context.Background(), whole, nil); res.err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", res.err, res.stderr)
	}

	split := copyFixture(t, "basic")
	setHyperparameters(t, split, hp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := runTrain(t, ctx, split, func(line string) {
		if strings.HasPrefix(line, "epoch=2/") {
			cancel()
		}
	})
	if !errors.Is(res.err, ErrStopped) || ExitCode(res.err) != ExitStopped {
		t.Fatalf("interrupted run: error %v (exit %d), want ErrStopped (exit %d)\n%s", res.err, ExitCode(res.err), ExitStopped, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(split, "output", "failure")); err == nil {
		t.Error("output/failure written for a stopped run")
	}
	if _, err := model.Load(filepath.Join(split, "model")); err != nil {
		t.Errorf("no usable best-so-far model after SIGTERM: %v", err)
	}
	s := readSummary(t, split)
	if s.Status != StatusInterrupted || s.EpochsRun != 2 {
		t.Errorf("interrupted summary status=%s epochs_run=%d, want interrupted after 2", s.Status, s.EpochsRun)
	}
	ck, err := model.LoadCheckpoint(filepath.Join(split, "checkpoints", CheckpointFile))
	if err != nil {
		t.Fatalf("checkpoint after SIGTERM: %v", err)
	}
	if ck.Epoch != 2 {
		t.Errorf("checkpoint at epoch %d, want 2", ck.Epoch)
	}

	// A second stop right after resuming must keep the exact checkpoint.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	res = runTrain(t, ctx2, split, func(line string) {
		if strings.Contains(line, "resuming from checkpoint") {
			cancel2()
		}
	})
	if !errors.Is(res.err, ErrStopped) {
		t.Fatalf("run stopped after resuming: error %v\n%s", res.err, res.stderr)
	}

	res = runTrain(t, context.Background(), split, nil)
	if res.err != nil {
		t.Fatalf("resumed run: %v\n%s", res.err, res.stderr)
	}
	if !strings.Contains(res.stderr, "resuming from checkpoint") || strings.Contains(res.stdout, "epoch=1/") {
		t.Errorf("resumed run did not continue from the checkpoint:\n%s", res.stdout)
	}
	s = readSummary(t, split)
	if s.ResumedFromEpoch != 2 || len(s.History) != 4 || s.Status != StatusCompleted {
		t.Errorf("resumed summary resumed_from=%d history=%d status=%s", s.ResumedFromEpoch, len(s.History), s.Status)
	}
	for _, f := range []string{"model/weights.bin", "output/data/" + PredictionsFile} {
		a, _ := os.ReadFile(filepath.Join(whole, f))
		b, _ := os.ReadFile(filepath.Join(split, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the uninterrupted and the interrupted+resumed run", f)
		}
	}
	wantHist, gotHist := readSummary(t, whole).History, s.History
	for i := range wantHist {
		if wantHist[i].ValidationLoss != gotHist[i].ValidationLoss || wantHist[i].TrainLoss != gotHist[i].TrainLoss {
			t.Errorf("epoch %d: losses %v/%v resumed, %v/%v uninterrupted", i+1, gotHist[i].TrainLoss, gotHist[i].ValidationLoss, wantHist[i].TrainLoss, wantHist[i].ValidationLoss)
		}
	}
}

func TestTrainResumeMismatch(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, root string)
		want   string
	}{
		{"feature layout", func(t *testing.T, root string) {
			var buf bytes.Buffer
			opt := tinySynth(12, 1)
			opt.EmbeddingDim = 6
			if _, err := pipeline.WriteSynthetic(&buf, opt); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(root, "input/data/train/synthetic.csv"), buf.Bytes(), 0o644)
		}, "does not match this job: the data's feature layout differs from the checkpoint's: embedding width 6; expected 8"},
		{"network shape", func(t *testing.T, root string) {
			data, _ := os.ReadFile(filepath.Join(root, hpPath))
			os.WriteFile(filepath.Join(root, hpPath), bytes.Replace(data, []byte(`"encoder_units": "4"`), []byte(`"encoder_units": "5"`), 1), 0o644)
		}, "does not match this job: encoder_units=5; the checkpoint has 4"},
		{"training hyperparameter", func(t *testing.T, root string) {
			var hp map[string]any // the fixture sends some values as bare numbers, like tuning jobs
			data, _ := os.ReadFile(filepath.Join(root, hpPath))
			if err := json.Unmarshal(data, &hp); err != nil {
				t.Fatal(err)
			}
			hp["learning_rate"] = "0.0123"
			data, _ = json.Marshal(hp)
			os.WriteFile(filepath.Join(root, hpPath), data, 0o644)
		}, "does not match this job: learning_rate=0.0123; the checkpoint was written with learning_rate="},
		// W3: same scaler and sample count, other embeddings
		{"training data", func(t *testing.T, root string) {
			path := filepath.Join(root, "input/data/train/synthetic.csv")
			recs := readCSV(t, path)
			for _, rec := range recs[1:] {
				for j, name := range recs[0] {
					if _, err := strconv.Atoi(strings.TrimPrefix(name, "P")); err == nil && strings.HasPrefix(name, "P") {
						if v, err := strconv.ParseFloat(rec[j], 64); err == nil && v != -1 {
							rec[j] = strconv.FormatFloat(-v, 'g', -1, 64)
						}
					}
				}
			}
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.WriteAll(recs)
			os.WriteFile(path, buf.Bytes(), 0o644)
		}, "does not match this job: the training data differ from the data it was written with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyFixture(t, "basic")
			if res := runTrain(t, context.Background(), root, nil); res.err != nil {
				t.Fatalf("first run: %v", res.err)
			}
			os.RemoveAll(filepath.Join(root, "model"))
			os.RemoveAll(filepath.Join(root, "output"))
			tt.mutate(t, root)
			res := runTrain(t, context.Background(), root, nil)
			if res.err == nil || ExitCode(res.err) != ExitFailure {
				t.Fatalf("resume with a mismatch: error %v", res.err)
			}
			data, _ := os.ReadFile(filepath.Join(root, "output", "failure"))
			if !strings.Contains(string(data), tt.want) {
				t.Errorf("failure %q\nwant it to contain %q", data, tt.want)
			}
			if got := listDir(t, filepath.Join(root, "model")); len(got) != 0 {
				t.Errorf("model/ holds %v", got)
			}
		})
	}
}

func TestTrainStoppedBeforeFirstEpoch(t *testing.T) {
	root := copyFixture(t, "basic")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := runTrain(t, ctx, root, nil)
	if !errors.Is(res.err, ErrStopped) {
		t.Fatalf("error %v, want ErrStopped", res.err)
	}
	if _, err := os.Stat(filepath.Join(root, "output", "failure")); err == nil {
		t.Error("failure file written for a stop")
	}
	if got := listDir(t, filepath.Join(root, "model")); len(got) != 0 {
		t.Errorf("untrained model published: %v", got)
	}
}

var _ = time.Second

// TestTrainWeightDecay: weight_decay reaches the model's training options (the weights
// differ from a run without it) and is recorded in model.json.
func TestTrainWeightDecay(t *testing.T) {
	weights := map[string][]byte{}
	for _, decay := range []string{"0", "0.5"} {
		root := copyFixture(t, "basic")
		setHyperparameters(t, root, map[string]string{"epochs": "2", "lstm_units": "4", "encoder_units": "4",
			"batch_size": "8", "learning_rate": "0.01", "patience": "0", "validation_fraction": "0.25",
			"seed": "7", "weight-decay": decay})
		if res := runTrain(t, context.Background(), root, nil); res.err != nil {
			t.Fatalf("weight_decay=%s: Train: %v\nstderr:\n%s", decay, res.err, res.stderr)
		}
		m, err := model.Load(filepath.Join(root, "model"))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Hyperparameters()["weight_decay"]; got != decay {
			t.Errorf("saved hyperparameter weight_decay=%q, want %s", got, decay)
		}
		if weights[decay], err = os.ReadFile(filepath.Join(root, "model", "weights.bin")); err != nil {
			t.Fatal(err)
		}
	}
	if bytes.Equal(weights["0"], weights["0.5"]) {
		t.Error("weight_decay=0.5 trained the same weights as weight_decay=0: the option does not reach the model")
	}
}
