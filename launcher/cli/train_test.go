package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/launcher/sagemakertest"
	"github.com/blueblood/blueblood/pipeline/golden"
)

func TestTrainSubmitWaitAndSummary(t *testing.T) {
	h := newHarness(t)
	r := h.run(append([]string{"train"}, base("--epochs", "20", "--learning-rate", "0.01", "--hp", "patience=3", "--wait")...)...)
	if r.err != nil {
		t.Fatalf("train: %v\n%s", r.err, r.stderr)
	}
	names := h.srv.TrainingJobNames()
	if len(names) != 1 {
		t.Fatalf("jobs = %v", names)
	}
	name := names[0]
	if name != "blueblood-e20-lr0p01-u64-d0p2-b32-20251125183000" {
		t.Errorf("generated name = %s", name)
	}
	hp := h.srv.JobHyperParameters(name)
	want := map[string]string{"epochs": "20", "learning_rate": "0.01", "lstm_units": "64", "dropout_rate": "0.2", "batch_size": "32", "patience": "3"}
	if len(hp) != len(want) {
		t.Errorf("hyperparameters = %v, want %v", hp, want)
	}
	for k, v := range want {
		if hp[k] != v {
			t.Errorf("hyperparameter %s = %q, want %q", k, hp[k], v)
		}
	}
	if got := h.srv.JobTags(name)["blueblood:git-commit"]; got != "0123456789ab" {
		t.Errorf("git commit tag = %q", got)
	}
	for _, s := range []string{"Starting", "Downloading", "Training", "Uploading", "Completed"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("secondary status %s not shown:\n%s", s, r.stderr)
		}
	}
	for _, s := range []string{"status    Completed", "billable  80 s", "model     s3://blueblood-test/output/" + name + "/output/model.tar.gz",
		"validation:rmse=0.25", "best epoch=3/20"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	// The metric definitions sent are the trainer's own.
	var req struct {
		AlgorithmSpecification struct{ MetricDefinitions []metricdef.Definition }
	}
	if err := json.Unmarshal(h.srv.Bodies("SageMaker.CreateTrainingJob")[0], &req); err != nil {
		t.Fatal(err)
	}
	defs := metricdef.Definitions()
	if len(req.AlgorithmSpecification.MetricDefinitions) != len(defs) {
		t.Fatalf("metric definitions = %v", req.AlgorithmSpecification.MetricDefinitions)
	}
	for i, d := range defs {
		if req.AlgorithmSpecification.MetricDefinitions[i] != d {
			t.Errorf("metric definition %d = %v, want %v", i, req.AlgorithmSpecification.MetricDefinitions[i], d)
		}
	}
}

func TestTrainFailedJobExitCode(t *testing.T) {
	h := newHarness(t, sagemakertest.WithOutcome(func(j sagemakertest.Job) sagemakertest.Outcome {
		return sagemakertest.Outcome{Status: "Failed", FailureReason: "AlgorithmError: no training data\nin channel train"}
	}))
	r := h.run(append([]string{"train", "--wait", "--name", "will-fail"}, base()...)...)
	if ExitCode(r.err) != ExitJobFailed || !strings.Contains(r.err.Error(), "no training data in channel train") {
		t.Fatalf("err = %v (exit %d), want job failure with the reason on one line", r.err, ExitCode(r.err))
	}
	if !strings.Contains(r.stdout, "reason    AlgorithmError: no training data in channel train") {
		t.Errorf("summary lacks the reason:\n%s", r.stdout)
	}
}

func TestTrainDryRunGolden(t *testing.T) {
	h := newHarness(t)
	r := h.run(append([]string{"train", "--dry-run", "--epochs", "50", "--spot", "--checkpoint", "s3://blueblood-test/ckpt",
		"--max-runtime", "2h", "--env", "LOG_LEVEL=debug", "--tag", "team=ml", "--network-isolation",
		"--validation", "s3://blueblood-test/data/validation/", "--test", "s3://blueblood-test/data/test/"}, base()...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if h.srv.Calls("SageMaker.CreateTrainingJob") != 0 {
		t.Fatal("dry run called the API")
	}
	golden.Check(t, filepath.Join("testdata", "train-dry-run.golden.json"), []byte(r.stdout))
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
	for k := range doc {
		if !regexp.MustCompile(`^[A-Z][A-Za-z]+$`).MatchString(k) {
			t.Errorf("member %q is not PascalCase", k)
		}
	}
	if ck := doc["CheckpointConfig"].(map[string]any)["S3Uri"]; ck != "s3://blueblood-test/ckpt/" {
		t.Errorf("checkpoint URI = %v, want a trailing slash", ck)
	}
	if resp, err := postJSON(h.srv.URL, "SageMaker.CreateTrainingJob", []byte(r.stdout)); err != nil || !strings.Contains(resp, "TrainingJobArn") {
		t.Errorf("the test server rejects the dry-run request: %v %s", err, resp)
	}
	sc := doc["StoppingCondition"].(map[string]any)
	if sc["MaxRuntimeInSeconds"] != 7200.0 || sc["MaxWaitTimeInSeconds"] != 7200.0 {
		t.Errorf("stopping condition = %v", sc)
	}
}

func TestTrainUploadsLocalChannelOnce(t *testing.T) {
	h := newHarness(t)
	args := []string{"train", "--image", testImage, "--role", testRole, "--bucket", "s3://" + testBucket + "/runs",
		"--train", "testdata/train.csv", "--name", "upload-1"}
	r := h.run(args...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var req struct {
		InputDataConfig []struct {
			DataSource struct{ S3DataSource struct{ S3Uri string } }
		}
		OutputDataConfig struct{ S3OutputPath string }
	}
	if err := json.Unmarshal(h.srv.Bodies("SageMaker.CreateTrainingJob")[0], &req); err != nil {
		t.Fatal(err)
	}
	uri := req.InputDataConfig[0].DataSource.S3DataSource.S3Uri
	if !regexp.MustCompile(`^s3://blueblood-test/runs/inputs/train/[0-9a-f]{12}/$`).MatchString(uri) {
		t.Errorf("channel URI = %s", uri)
	}
	if req.OutputDataConfig.S3OutputPath != "s3://blueblood-test/runs/output" {
		t.Errorf("default output = %s", req.OutputDataConfig.S3OutputPath)
	}
	key := strings.TrimPrefix(uri, "s3://blueblood-test/") + "train.csv"
	obj, err := h.s3.GetObject(testBucket, key, nil)
	if err != nil {
		t.Fatalf("uploaded object %s: %v", key, err)
	}
	obj.Contents.Close()
	if !strings.Contains(r.stderr, "(1 of 1 files uploaded)") {
		t.Errorf("stderr: %s", r.stderr)
	}
	args[len(args)-1] = "upload-2"
	r = h.run(args...)
	if r.err != nil || !strings.Contains(r.stderr, "(0 of 1 files uploaded)") {
		t.Errorf("second run should upload nothing: %v\n%s", r.err, r.stderr)
	}
}

func TestTrainRetriesThrottling(t *testing.T) {
	h := newHarness(t)
	h.srv.Inject("SageMaker.CreateTrainingJob", 3, sagemakertest.Throttling())
	r := h.run(append([]string{"train", "--name", "throttled"}, base()...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := h.srv.Calls("SageMaker.CreateTrainingJob"); got != 4 {
		t.Errorf("calls = %d, want 4", got)
	}
	if h.sleepCount() != 3 {
		t.Errorf("sleeps = %v, want 3 backoffs", h.sleeps)
	}
	if len(h.srv.TrainingJobNames()) != 1 {
		t.Errorf("jobs = %v", h.srv.TrainingJobNames())
	}
}

func TestTrainValidationErrors(t *testing.T) {
	var manyTags []string
	for i := range 50 {
		manyTags = append(manyTags, "--tag", "k"+strings.Repeat("x", i)+"=v")
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no image", []string{"--role", testRole, "--train", "s3://b1b/x", "--output", "s3://b1b/o"}, "--image is required"},
		{"no role", []string{"--image", testImage, "--train", "s3://b1b/x", "--output", "s3://b1b/o"}, "--role is required"},
		{"role not an ARN", base("--role", "BlueBloodRole"), `--role "BlueBloodRole": expected an IAM role ARN`},
		{"output not S3", base("--output", "bucket/out"), `--output "bucket/out": expected an S3 URI`},
		{"bad bucket", base("--output", "s3://Bad_Bucket/out"), `bucket "Bad_Bucket" is not a valid S3 bucket name`},
		{"no output", []string{"--image", testImage, "--role", testRole, "--train", "s3://b1b/x"}, "--output is required"},
		{"no train", []string{"--image", testImage, "--role", testRole, "--output", "s3://b1b/o"}, "--train is required"},
		{"train http", base("--train", "http://example.com/x.csv"), `--train "http://example.com/x.csv": expected an s3:// URI or a local path`},
		{"train missing file", base("--train", "testdata/nope.csv"), `--train "testdata/nope.csv": local path does not exist`},
		{"local path without bucket", base("--train", "testdata/train.csv"), "needs --bucket"},
		{"epochs zero", base("--epochs", "0"), "--epochs: hyperparameter epochs=0: out of range"},
		{"learning rate text", base("--learning-rate", "fast"), `--learning-rate: hyperparameter learning_rate="fast": expected a number`},
		{"dropout one", base("--dropout-rate", "1"), "dropout_rate=1: out of range"},
		{"unknown hp", base("--hp", "lstm_unit=64"), "unknown hyperparameter lstm_unit; did you mean lstm_units?"},
		{"hp not kv", base("--hp", "epochs"), "--hp: expected KEY=VALUE"},
		{"reserved hp", base("--hp", "_tuning_objective_metric=x"), "reserved for SageMaker"},
		{"hp twice", base("--epochs", "20", "--hp", "epochs=30"), "epochs is already set by --epochs"},
		{"name underscore", base("--name", "my_job"), `--name "my_job": expected 1-63 letters, digits and hyphens`},
		{"name too long", base("--name", strings.Repeat("a", 64)), "expected 1-63 letters"},
		{"name leading hyphen", base("--name", "-job"), "expected 1-63 letters"},
		{"spot without checkpoint", base("--spot"), "--spot needs --checkpoint"},
		{"max wait too short", base("--spot", "--checkpoint", "s3://b1b/c", "--max-runtime", "3600", "--max-wait", "60"), "--max-wait 60 s: expected at least --max-runtime (3600 s)"},
		{"max wait without spot", base("--max-wait", "7200"), "--max-wait applies only with --spot"},
		{"checkpoint not S3", base("--spot", "--checkpoint", "/tmp/ck"), `--checkpoint "/tmp/ck/": expected an S3 URI`},
		{"instance type", base("--instance-type", "m5.xlarge"), `--instance-type "m5.xlarge"`},
		{"instance count", base("--instance-count", "0"), "--instance-count 0: expected 1"},
		{"volume", base("--volume-size", "0"), "--volume-size 0"},
		{"runtime zero", base("--max-runtime", "0"), "--max-runtime 0: expected 1 to 2419200 seconds"},
		{"runtime too long", base("--max-runtime", "700h"), `--max-runtime "700h"`},
		{"env key", base("--env", "1BAD=x"), `--env "1BAD"`},
		{"env credentials", base("--env", "AWS_SECRET_ACCESS_KEY=hunter2"), "--env AWS_SECRET_ACCESS_KEY: credentials do not go into the container"},
		{"tag chars", base("--tag", "bad#key=v"), `--tag "bad#key"`},
		{"too many tags", base(manyTags...), "--tag: 51 tags including the launcher's own, at most 50 allowed"},
		{"input mode", base("--input-mode", "Pipe"), `--input-mode "Pipe": expected File or FastFile`},
		{"unknown flag", base("--epoch", "3"), "unknown flag --epoch; did you mean --epochs?"},
		{"misspelt hyperparameter flag", base("--lerning-rate", "0.1"), "unknown flag --lerning-rate; did you mean --learning-rate?"},
		{"unknown flag far from all", base("--colour", "blue"), "unknown flag --colour"},
		{"positional", base("extra"), `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.run(append([]string{"train"}, tt.args...)...)
			if r.err == nil {
				t.Fatal("no error")
			}
			if ExitCode(r.err) != ExitUsage {
				t.Errorf("exit code = %d, want %d", ExitCode(r.err), ExitUsage)
			}
			if msg := r.err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line containing %q", msg, tt.want)
			}
			if n := h.srv.Calls("SageMaker.CreateTrainingJob"); n != 0 {
				t.Errorf("%d requests submitted", n)
			}
			if objs, _ := h.s3.ListBucket(testBucket, nil, gofakes3ListAll()); objs != nil && len(objs.Contents) > 0 {
				t.Errorf("uploaded %d objects", len(objs.Contents))
			}
		})
	}
}

func TestUnknownSubcommandAndHelp(t *testing.T) {
	h := newHarness(t)
	if r := h.run("trian"); ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), `unknown subcommand "trian"`) {
		t.Errorf("err = %v", r.err)
	}
	r := h.run("help")
	for _, c := range commands() {
		if !strings.Contains(r.stdout, c.name) {
			t.Errorf("help lacks %s", c.name)
		}
	}
	r = h.run("train", "-h")
	if r.err != nil || !strings.Contains(r.stdout, "-learning-rate") || !strings.Contains(r.stdout, "(0, 1]") {
		t.Errorf("train -h: %v\n%s", r.err, r.stdout)
	}
	_ = context.Background
}

func TestPresignedURLsNeverInOutput(t *testing.T) {
	h := newHarness(t)
	const url = "https://b.s3.amazonaws.com/m.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDPRESIGNED%2F20251125&X-Amz-Signature=deadbeef"
	for _, args := range [][]string{
		{"train", "--image", testImage, "--role", testRole, "--train", url, "--output", "s3://" + testBucket + "/o"},
		{"train", "--image", testImage, "--role", testRole, "--train", "s3://" + testBucket + "/t/", "--output", url},
		{"deploy", url, "--image", testImage, "--role", testRole, "--dry-run"},
		{"local", "--train", url, "--output", t.TempDir()},
		{"local-serve", "--model", url},
		{url},
	} {
		r := h.run(args...)
		if ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: exit %d (%v), want usage", args[:2], ExitCode(r.err), r.err)
			continue
		}
		all := r.err.Error() + r.stdout + r.stderr
		if strings.Contains(all, "X-Amz-Signature") || strings.Contains(all, "AKIDPRESIGNED") || strings.Contains(all, "deadbeef") {
			t.Errorf("%v: presigned URL in output: %s", args[:2], all)
		}
		if !strings.Contains(r.err.Error(), "https://b.s3.amazonaws.com/m.tar.gz?<query hidden>") {
			t.Errorf("%v: error does not name the URL: %v", args[:2], r.err)
		}
	}
}

// The trainer fails a job with more than one host, so no command sends one
// (not even as a dry run that looks fine).
func TestInstanceCountAboveOneRefused(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{
		append([]string{"train", "--dry-run"}, base("--instance-count", "2")...),
		append([]string{"train"}, base("--instance-count", "100")...),
		append([]string{"sweep", "--dry-run", "--grid", "epochs=10,20"}, base("--instance-count", "2")...),
		append([]string{"tune", "--dry-run", "--range", "lstm_units=32:128"}, base("--instance-count", "4")...),
	} {
		r := h.run(args...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "the trainer runs on a single instance") || r.stdout != "" {
			t.Errorf("%s: %v, stdout %q", args[0], r.err, r.stdout)
		}
	}
	if n := len(h.srv.TrainingJobNames()); n != 0 {
		t.Errorf("%d jobs submitted", n)
	}
}
