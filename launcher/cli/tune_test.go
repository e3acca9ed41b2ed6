package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

type tuneRequest struct {
	HyperParameterTuningJobName   string
	HyperParameterTuningJobConfig struct {
		Strategy                         string
		TrainingJobEarlyStoppingType     string
		HyperParameterTuningJobObjective struct{ Type, MetricName string }
		ResourceLimits                   map[string]int
		StrategyConfig                   json.RawMessage
		ParameterRanges                  struct {
			IntegerParameterRanges     []map[string]string
			ContinuousParameterRanges  []map[string]string
			CategoricalParameterRanges []struct {
				Name   string
				Values []string
			}
		}
	}
	TrainingJobDefinition struct {
		StaticHyperParameters  map[string]string
		AlgorithmSpecification struct{ MetricDefinitions []struct{ Name string } }
	}
	WarmStartConfig *struct {
		WarmStartType                  string
		ParentHyperParameterTuningJobs []struct{ HyperParameterTuningJobName string }
	}
}

func TestTuneDryRunRequest(t *testing.T) {
	h := newHarness(t)
	r := h.run(append([]string{"tune", "--dry-run", "--range", "learning_rate=0.0001:0.1:log", "--range", "lstm_units=32:128",
		"--range", "architecture=seed,pooled-residual", "--max-jobs", "20", "--max-parallel", "3", "--early-stopping", "Auto",
		"--epochs", "30", "--warm-start", "parent-tune-1"}, base()...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("want one JSON line:\n%s", r.stdout)
	}
	var req tuneRequest
	if err := json.Unmarshal([]byte(r.stdout), &req); err != nil {
		t.Fatal(err)
	}
	cfg := req.HyperParameterTuningJobConfig
	if req.HyperParameterTuningJobName != "blueblood-251125-183000" || len(req.HyperParameterTuningJobName) > 32 {
		t.Errorf("name = %s", req.HyperParameterTuningJobName)
	}
	if cfg.Strategy != "Bayesian" || cfg.TrainingJobEarlyStoppingType != "Auto" ||
		cfg.HyperParameterTuningJobObjective.Type != "Minimize" || cfg.HyperParameterTuningJobObjective.MetricName != "validation:rmse" {
		t.Errorf("config = %+v", cfg)
	}
	if cfg.ResourceLimits["MaxNumberOfTrainingJobs"] != 20 || cfg.ResourceLimits["MaxParallelTrainingJobs"] != 3 {
		t.Errorf("limits = %v", cfg.ResourceLimits)
	}
	c := cfg.ParameterRanges.ContinuousParameterRanges
	if len(c) != 1 || c[0]["Name"] != "learning_rate" || c[0]["MinValue"] != "0.0001" || c[0]["MaxValue"] != "0.1" || c[0]["ScalingType"] != "Logarithmic" {
		t.Errorf("continuous ranges = %v", c)
	}
	i := cfg.ParameterRanges.IntegerParameterRanges
	if len(i) != 1 || i[0]["Name"] != "lstm_units" || i[0]["MinValue"] != "32" || i[0]["MaxValue"] != "128" || i[0]["ScalingType"] != "Auto" {
		t.Errorf("integer ranges = %v", i)
	}
	cat := cfg.ParameterRanges.CategoricalParameterRanges
	if len(cat) != 1 || cat[0].Name != "architecture" || strings.Join(cat[0].Values, ",") != "seed,pooled-residual" {
		t.Errorf("categorical ranges = %v", cat)
	}
	static := req.TrainingJobDefinition.StaticHyperParameters
	if static["epochs"] != "30" || static["batch_size"] != "32" {
		t.Errorf("static = %v", static)
	}
	for _, tuned := range []string{"learning_rate", "lstm_units", "architecture"} {
		if _, ok := static[tuned]; ok {
			t.Errorf("tuned %s is also static", tuned)
		}
	}
	found := false
	for _, d := range req.TrainingJobDefinition.AlgorithmSpecification.MetricDefinitions {
		found = found || d.Name == "validation:rmse"
	}
	if !found {
		t.Error("objective not among metric definitions")
	}
	if req.WarmStartConfig == nil || req.WarmStartConfig.WarmStartType != "IdenticalDataAndAlgorithm" ||
		req.WarmStartConfig.ParentHyperParameterTuningJobs[0].HyperParameterTuningJobName != "parent-tune-1" {
		t.Errorf("warm start = %+v", req.WarmStartConfig)
	}
	if h.srv.Calls("SageMaker.CreateHyperParameterTuningJob") != 0 {
		t.Error("dry run called the API")
	}
}

func TestTuneWaitPrintsBestAndTrials(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	t.Chdir(dir)
	r := h.run(append([]string{"tune", "--name", "bb-tune", "--range", "learning_rate=0.001:0.1:log", "--range", "lstm_units=32:128",
		"--max-jobs", "6", "--max-parallel", "2", "--wait"}, base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	children := 0
	best, bestName := 10.0, ""
	for _, n := range h.srv.TrainingJobNames() {
		if !strings.HasPrefix(n, "bb-tune-") {
			continue
		}
		children++
		hp := h.srv.JobHyperParameters(n)
		if hp["_tuning_objective_metric"] != "validation:rmse" {
			t.Errorf("child %s hp = %v", n, hp)
		}
		out := sagemakertest.DefaultOutcome(sagemakertest.Job{Name: n, HyperParameters: hp})
		if v := out.Metrics["validation:rmse"]; v < best {
			best, bestName = v, n
		}
	}
	if children != 6 {
		t.Fatalf("%d children, want 6", children)
	}
	if !strings.Contains(r.stdout, "best job    "+bestName) || !strings.Contains(r.stdout, "status      Completed") {
		t.Errorf("best job %s not reported:\n%s", bestName, r.stdout)
	}
	rows := 0
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "bb-tune-0") && strings.Contains(l, "Completed") && strings.Contains(l, "/output/model.tar.gz") {
			rows++
		}
	}
	if rows != 6 {
		t.Errorf("%d trial rows, want 6:\n%s", rows, r.stdout)
	}
	if !strings.Contains(r.stdout, "bb-tune-leaderboard.csv") {
		t.Errorf("no leaderboard file:\n%s", r.stdout)
	}
}

func TestTuneGridRunsEveryCombination(t *testing.T) {
	h := newHarness(t)
	t.Chdir(t.TempDir())
	r := h.run(append([]string{"tune", "--name", "grid-tune", "--strategy", "Grid", "--range", "lstm_units=32,64,128",
		"--range", "dropout_rate=0.2,0.3", "--max-parallel", "4", "--wait"}, base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	var req tuneRequest
	_ = json.Unmarshal(h.srv.Bodies("SageMaker.CreateHyperParameterTuningJob")[0], &req)
	if _, ok := req.HyperParameterTuningJobConfig.ResourceLimits["MaxNumberOfTrainingJobs"]; ok {
		t.Error("Grid request carries MaxNumberOfTrainingJobs")
	}
	seen := map[string]bool{}
	for _, n := range h.srv.TrainingJobNames() {
		hp := h.srv.JobHyperParameters(n)
		seen[hp["lstm_units"]+"/"+hp["dropout_rate"]] = true
	}
	if len(seen) != 6 {
		t.Errorf("combinations run: %v", seen)
	}
}

func TestTuneWarmStartUnknownParent(t *testing.T) {
	h := newHarness(t)
	r := h.run(append([]string{"tune", "--range", "lstm_units=32:128", "--warm-start", "no-such-parent"}, base()...)...)
	if r.err == nil || ExitCode(r.err) != ExitFailure || !strings.Contains(r.err.Error(), "ResourceNotFound") {
		t.Errorf("err = %v", r.err)
	}
}

func TestTuneValidationErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "tune needs at least one --range"},
		{[]string{"--range", "lstm_units=32:128", "--strategy", "Grid"}, `--range "lstm_units=32:128": Grid takes value lists`},
		{[]string{"--range", "lstm_units=32,64", "--strategy", "Grid", "--max-jobs", "3"}, "--max-jobs 3: Grid runs every combination (2)"},
		{[]string{"--range", "lstm_units=32:128", "--strategy", "Hyperband", "--early-stopping", "Auto"}, "--early-stopping Auto: Hyperband"},
		{[]string{"--range", "lstm_units=32:128", "--strategy", "Genetic"}, `--strategy "Genetic"`},
		{[]string{"--range", "clip_norm=0:1:log"}, "log scaling needs a minimum above 0"},
		{[]string{"--range", "lstm_units=32:128:reverse-log"}, "reverse-log scaling needs a float range within [0, 1)"},
		{[]string{"--range", "lstm_units=32.5:128"}, "minimum: hyperparameter lstm_units=\"32.5\": expected an integer"},
		{[]string{"--range", "learning_rate=0.001:2"}, "maximum: hyperparameter learning_rate=2: out of range"},
		{[]string{"--range", "lstm_units=32:128", "--range", "lstm_units=8:16"}, "--range: lstm_units appears twice"},
		{[]string{"--range", "lstm_units=32:128", "--lstm-units", "64"}, "a tuned hyperparameter cannot be static too"},
		{[]string{"--range", "lstm_units=32:128", "--objective", "accuracy"}, `--objective "accuracy": expected a metric the trainer prints`},
		{[]string{"--range", "lstm_units=32:128", "--objective-type", "Lowest"}, `--objective-type "Lowest"`},
		{[]string{"--range", "lstm_units=32:128", "--name", "a-tuning-job-name-that-is-too-long"}, "expected 1-32 letters"},
		{[]string{"--range", "lstm_units=32:128", "--max-jobs", "751"}, "--max-jobs 751: expected 1 to 750 for Bayesian"},
		{[]string{"--range", "lstm_units=32:128", "--hyperband-min", "1"}, "apply only with --strategy Hyperband"},
		{[]string{"--range", "lstm_units=32:128", "--warm-start", "bad_parent"}, `--warm-start "bad_parent"`},
		{[]string{"--range", "lstm_units=32:128", "--warm-start", "p", "--warm-start-type", "Copy"}, `--warm-start-type "Copy"`},
		{[]string{"--range", "foo=1:2"}, "unknown hyperparameter foo"},
		{[]string{"--range", "lstm_units"}, `--range "lstm_units": expected NAME=MIN:MAX`},
		{[]string{"--range", "lstm_units=32:128", "--role", "arn:aws:iam::12345:role/x"}, `--role "arn:aws:iam::12345:role/x"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			h := newHarness(t)
			r := h.run(append(append([]string{"tune"}, base()...), tt.args...)...)
			if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) || strings.Contains(r.err.Error(), "\n") {
				t.Errorf("err = %v, want one-line usage error containing %q", r.err, tt.want)
			}
			if h.srv.Calls("SageMaker.CreateHyperParameterTuningJob") != 0 {
				t.Error("submitted")
			}
		})
	}
}

// Hyperband's MaxResource comes from --hyperband-max or a static epochs; with
// epochs tuned, the launcher sends the range's maximum (the service would refuse
// the job: it cannot infer MaxResource).
func TestTuneHyperbandMaxResource(t *testing.T) {
	h := newHarness(t)
	r := h.run(append([]string{"tune", "--name", "hb-tuned", "--strategy", "Hyperband", "--range", "epochs=5:50"}, base()...)...)
	if r.err != nil {
		t.Fatalf("tuned epochs: %v", r.err)
	}
	var req tuneRequest
	_ = json.Unmarshal(h.srv.Bodies("SageMaker.CreateHyperParameterTuningJob")[0], &req)
	if got := string(req.HyperParameterTuningJobConfig.StrategyConfig); !strings.Contains(got, `"MaxResource":50`) {
		t.Errorf("StrategyConfig = %s, want MaxResource 50", got)
	}
	if r := h.run(append([]string{"tune", "--name", "hb-static", "--strategy", "Hyperband", "--range", "lstm_units=32:128", "--epochs", "30"}, base()...)...); r.err != nil {
		t.Fatalf("static epochs: %v", r.err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--range", "epochs=5:50", "--hyperband-max", "20001"}, "--hyperband-max 20001: expected 1 to 20000"},
		{[]string{"--range", "epochs=5,10", "--hyperband-min", "3"}, "Hyperband needs --hyperband-max"},
		{[]string{"--range", "lstm_units=32:128", "--epochs", "10", "--hyperband-min", "20"}, "--hyperband-min 20: expected at most the epochs a trial runs (10)"},
	} {
		r := h.run(append(append([]string{"tune", "--strategy", "Hyperband"}, base()...), tt.args...)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, r.err, tt.want)
		}
	}
}
