package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

const grid81 = "epochs=10,20,50 learning_rate=0.001,0.01,0.1 lstm_units=32,64,128 dropout_rate=0.2,0.3,0.4"

func TestSweep81WithThrottlingAndQuota(t *testing.T) {
	h := newHarness(t, sagemakertest.WithQuota(5), sagemakertest.WithStepsPerStatus(3))
	h.srv.Inject("SageMaker.CreateTrainingJob", 25, sagemakertest.Throttling())
	dir := t.TempDir()
	manifest := filepath.Join(dir, "sweep.json")
	start := time.Now()
	r := h.run(append([]string{"sweep", "--grid", grid81, "--max-parallel", "8", "--manifest", manifest, "--wait", "--quota-wait", "30s"}, base()...)...)
	elapsed := time.Since(start)
	if r.err != nil {
		t.Fatalf("sweep: %v\n%s", r.err, r.stderr)
	}
	t.Logf("81-job sweep with 25 injected throttles and a quota of 5 running jobs: %s wall time", elapsed)

	names := h.srv.TrainingJobNames()
	if len(names) != 81 {
		t.Fatalf("%d jobs created, want 81", len(names))
	}
	combos := map[string]bool{}
	for _, n := range names {
		if !reJobName.MatchString(n) || len(n) > 63 {
			t.Errorf("invalid name %s", n)
		}
		hp := h.srv.JobHyperParameters(n)
		key := hp["epochs"] + "/" + hp["learning_rate"] + "/" + hp["lstm_units"] + "/" + hp["dropout_rate"]
		if combos[key] {
			t.Errorf("combination %s submitted twice", key)
		}
		combos[key] = true
		tags := h.srv.JobTags(n)
		if tags["blueblood:sweep-id"] != "20251125183000" || tags["blueblood:trial"] == "" {
			t.Errorf("tags of %s = %v", n, tags)
		}
	}
	if len(combos) != 81 {
		t.Errorf("%d distinct combinations", len(combos))
	}
	// 81 successes, 25 throttled calls, and at least one quota refusal.
	calls := h.srv.Calls("SageMaker.CreateTrainingJob")
	quotaWaits := 0
	for _, d := range h.sleeps {
		if d == 30*time.Second {
			quotaWaits++
		}
	}
	if quotaWaits == 0 || calls != 81+25+quotaWaits {
		t.Errorf("CreateTrainingJob calls = %d, quota waits = %d; want 81 + 25 throttled + quota waits", calls, quotaWaits)
	}
	if i := strings.Index(r.stdout, "sweep 20251125183000: 81 jobs"); i >= 0 {
		t.Logf("submit phase: %s", strings.SplitN(r.stdout[i:], "\n", 2)[0])
	}
	if !strings.Contains(r.stdout, "81 jobs submitted (0 found already submitted), 25 throttled retries") {
		t.Errorf("summary line missing:\n%s", r.stdout)
	}

	// Leaderboard: the default outcome is best at learning rate 0.01, 64 units,
	// dropout 0.2 and 50 epochs (rmse 0.22), worst at lr 0.1/0.001 with 128 units etc.
	lines := strings.Split(r.stdout, "\n")
	var table []string
	for i, l := range lines {
		if strings.HasPrefix(l, "RANK") {
			table = lines[i : i+82]
			break
		}
	}
	if len(table) != 82 {
		t.Fatalf("leaderboard table not found:\n%s", r.stdout)
	}
	first := strings.Fields(table[1])
	if first[0] != "1" || first[1] != "0.22" || first[2] != "Completed" || first[3] != "50" || first[4] != "0.01" || first[5] != "64" || first[6] != "0.2" {
		t.Errorf("best row = %v", first)
	}
	f, err := os.Open(filepath.Join(dir, "sweep-leaderboard.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 82 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	if strings.Join(rows[0], ",") != "rank,job,status,validation:rmse,epochs,learning_rate,lstm_units,dropout_rate,billable_seconds,model_artifacts,failure_reason,startup_seconds,warm_start" {
		t.Errorf("csv header = %v", rows[0])
	}
	prev := 0.0
	for _, row := range rows[1:] {
		var v float64
		if err := json.Unmarshal([]byte(row[3]), &v); err != nil || v < prev {
			t.Errorf("csv not sorted by objective at %v", row)
		}
		prev = v
		if !strings.HasSuffix(row[9], "/output/model.tar.gz") {
			t.Errorf("model uri = %s", row[9])
		}
	}
	pf, err := os.Open(filepath.Join(dir, "sweep-leaderboard.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	cfg, err := png.DecodeConfig(pf)
	if err != nil || cfg.Width < 500 || cfg.Height < 500 {
		t.Errorf("chart: %+v, %v", cfg, err)
	}
	// Re-running the finished sweep submits nothing.
	before := h.srv.Calls("SageMaker.CreateTrainingJob")
	r = h.run(append([]string{"sweep", "--grid", grid81, "--manifest", manifest}, base()...)...)
	if r.err != nil || h.srv.Calls("SageMaker.CreateTrainingJob") != before {
		t.Errorf("re-run: %v, calls %d → %d", r.err, before, h.srv.Calls("SageMaker.CreateTrainingJob"))
	}
}

func TestSweepResumesAfterInterruption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var created atomic.Int64
	h := newHarness(t, sagemakertest.WithOutcome(func(j sagemakertest.Job) sagemakertest.Outcome {
		if created.Add(1) == 30 {
			cancel() // interrupt the launcher mid-sweep, like Ctrl-C
		}
		return sagemakertest.DefaultOutcome(j)
	}))
	manifest := filepath.Join(t.TempDir(), "m.json")
	args := append([]string{"sweep", "--grid", grid81, "--max-parallel", "4", "--manifest", manifest}, base()...)
	r := h.runCtx(ctx, args...)
	if r.err == nil {
		t.Fatal("interrupted sweep reported success")
	}
	m, err := loadManifest(manifest)
	if err != nil || m == nil {
		t.Fatalf("manifest after interruption: %v", err)
	}
	recorded := 81 - len(m.pending())
	if recorded < 25 || recorded > 30 {
		t.Errorf("%d submissions recorded, want about 30", recorded)
	}
	r = h.run(args...)
	if r.err != nil {
		t.Fatalf("resume: %v\n%s", r.err, r.stderr)
	}
	if n := len(h.srv.TrainingJobNames()); n != 81 {
		t.Errorf("%d jobs after resume, want 81", n)
	}
	m, _ = loadManifest(manifest)
	seen := map[string]bool{}
	for _, tr := range m.Trials {
		if tr.ARN == "" || seen[tr.ARN] {
			t.Errorf("trial %d: arn %q", tr.Index, tr.ARN)
		}
		seen[tr.ARN] = true
	}
	// Jobs created by the server but not recorded (in flight at the interruption)
	// are found through ResourceInUse, never created twice.
	inFlight := int(created.Load()) - 81
	if inFlight != 0 {
		t.Errorf("server created %d jobs, want 81", created.Load())
	}
	calls := h.srv.Calls("SageMaker.CreateTrainingJob")
	if !strings.Contains(r.stdout, "found already submitted") || calls < 81 {
		t.Errorf("calls %d, stdout %s", calls, r.stdout)
	}
}

func TestSweepDryRunOneDocumentPerLine(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "m.json")
	r := h.run(append([]string{"sweep", "--grid", grid81, "--dry-run", "--manifest", manifest}, base()...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 81 {
		t.Fatalf("%d lines, want 81", len(lines))
	}
	var names []string
	for _, l := range lines {
		var doc struct {
			TrainingJobName string
			HyperParameters map[string]string
		}
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("line is not JSON: %v", err)
		}
		names = append(names, doc.TrainingJobName)
	}
	if names[0] != "blueblood-e10-lr0p001-u32-d0p2-20251125183000-001" || names[80] != "blueblood-e50-lr0p1-u128-d0p4-20251125183000-081" {
		t.Errorf("names = %s ... %s", names[0], names[80])
	}
	sort.Strings(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("duplicate name %s", names[i])
		}
	}
	if h.srv.Calls("SageMaker.CreateTrainingJob") != 0 {
		t.Error("dry run called the API")
	}
	if _, err := os.Stat(manifest); err == nil {
		t.Error("dry run wrote a manifest")
	}
	// Every dry-run document is a request the service accepts.
	body := []byte(lines[40])
	resp, err := postJSON(h.srv.URL, "SageMaker.CreateTrainingJob", body)
	if err != nil || !strings.Contains(resp, "TrainingJobArn") {
		t.Errorf("test server rejected a dry-run body: %v %s", err, resp)
	}
}

func TestSweepRandomIsSeededAndInRange(t *testing.T) {
	h := newHarness(t)
	args := append([]string{"sweep", "--random", "12", "--seed", "7", "--range", "learning_rate=0.0001:0.1:log",
		"--range", "lstm_units=32:128", "--range", "architecture=seed,pooled-residual", "--dry-run"}, base()...)
	a, b := h.run(args...), h.run(args...)
	if a.err != nil || a.stdout != b.stdout {
		t.Fatalf("same seed, different plans (or error %v)", a.err)
	}
	lines := strings.Split(strings.TrimSpace(a.stdout), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d jobs", len(lines))
	}
	for _, l := range lines {
		var doc struct{ HyperParameters map[string]string }
		_ = json.Unmarshal([]byte(l), &doc)
		var lr, units float64
		_ = json.Unmarshal([]byte(doc.HyperParameters["learning_rate"]), &lr)
		_ = json.Unmarshal([]byte(doc.HyperParameters["lstm_units"]), &units)
		arch := doc.HyperParameters["architecture"]
		if lr < 0.0001 || lr > 0.1 || units < 32 || units > 128 || units != float64(int(units)) || (arch != "seed" && arch != "pooled-residual") {
			t.Errorf("sample out of range: %v", doc.HyperParameters)
		}
	}
	c := h.run(append(args, "--seed", "8")...)
	if c.stdout == a.stdout {
		t.Error("a different seed gave the same plan")
	}
}

func TestSweepManifestBelongsToAnotherSweep(t *testing.T) {
	h := newHarness(t)
	manifest := filepath.Join(t.TempDir(), "m.json")
	if r := h.run(append([]string{"sweep", "--grid", "epochs=10,20", "--manifest", manifest}, base()...)...); r.err != nil {
		t.Fatal(r.err)
	}
	r := h.run(append([]string{"sweep", "--grid", "epochs=10,30", "--manifest", manifest}, base()...)...)
	if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "belongs to another sweep") {
		t.Errorf("err = %v", r.err)
	}
	if n := len(h.srv.TrainingJobNames()); n != 2 {
		t.Errorf("%d jobs, want 2", n)
	}
}

func TestSweepValidationErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--grid", "epochs"}, `--grid "epochs": expected NAME=V1,V2,...`},
		{[]string{"--grid", "epochs="}, `--grid "epochs=": expected NAME=V1,V2,...`},
		{[]string{"--grid", "epochs=10,,20"}, "empty value in the list"},
		{[]string{"--grid", "epochs=0,10"}, "--grid: hyperparameter epochs=0: out of range"},
		{[]string{"--grid", "epoch=10"}, "--grid: unknown hyperparameter epoch; did you mean epochs?"},
		{[]string{"--grid", "epochs=10 epochs=20"}, "--grid: epochs appears twice"},
		{[]string{"--grid", "epochs=10,10"}, "--grid: epochs value 10 appears twice"},
		{[]string{"--grid", "   "}, "--grid: empty"},
		{[]string{"--grid", "epochs=10", "--epochs", "5"}, "--grid: epochs is also set by --epochs"},
		{[]string{"--grid", "epochs=10", "--random", "3"}, "--grid and --random: give one of them"},
		{[]string{}, "sweep needs --grid"},
		{[]string{"--random", "3"}, "--random needs at least one --range"},
		{[]string{"--random", "3", "--range", "learning_rate=0.1:0.01"}, "minimum must be below maximum"},
		{[]string{"--random", "3", "--range", "learning_rate=0:0.1:log"}, "learning_rate=0: out of range"},
		{[]string{"--random", "3", "--range", "lstm_units=8:64:cubic"}, `scaling "cubic"`},
		{[]string{"--random", "3", "--range", "architecture=1:2"}, "architecture takes a list of values"},
		{[]string{"--grid", "epochs=10", "--range", "lstm_units=8:64"}, "--range applies to --random"},
		{[]string{"--grid", "epochs=10", "--max-parallel", "0"}, "--max-parallel 0: expected 1 to 100"},
		{[]string{"--grid", "epochs=10", "--base-name", "__"}, `--base-name "__"`},
		{[]string{"--grid", "architecture=seed,lstm"}, `--grid: hyperparameter architecture="lstm": expected one of pooled-residual, seed`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			h := newHarness(t)
			dir := t.TempDir()
			r := h.run(append(append([]string{"sweep", "--manifest", filepath.Join(dir, "m.json")}, tt.args...), base()...)...)
			if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) || strings.Contains(r.err.Error(), "\n") {
				t.Errorf("err = %v, want one-line usage error containing %q", r.err, tt.want)
			}
			if h.srv.Calls("SageMaker.CreateTrainingJob") != 0 {
				t.Error("submitted")
			}
			if _, err := os.Stat(filepath.Join(dir, "m.json")); err == nil {
				t.Error("manifest written")
			}
		})
	}
}

func postJSON(url, target string, body []byte) (string, error) {
	req, err := newJSONRequest(url, target, body)
	if err != nil {
		return "", err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return b.String(), err
}

func TestSweepChangedLocalDataIsAnotherSweep(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(data, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"sweep", "--grid", "epochs=10,20", "--image", testImage, "--role", testRole,
		"--bucket", "s3://" + testBucket + "/sw", "--train", data, "--manifest", filepath.Join(dir, "m.json")}
	if r := h.run(args...); r.err != nil {
		t.Fatal(r.err)
	}
	if err := os.WriteFile(data, []byte("a,b\n1,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := h.run(args...)
	if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "belongs to another sweep") {
		t.Errorf("changed data resumed the old sweep: %v", r.err)
	}
}

// TestSweep81RealBackoffTakesSeconds submits the 81-job grid with real backoff sleeps
// (the other sweep tests fake the clock) and 25 injected throttles: it must take
// seconds, not minutes.
func TestSweep81RealBackoffTakesSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps for real")
	}
	h := newHarness(t)
	h.srv.Inject("SageMaker.CreateTrainingJob", 25, sagemakertest.Throttling())
	var out, errb bytes.Buffer
	e := h.env(&out, &errb)
	e.Sleep = sleepCtx
	start := time.Now()
	err := e.Run(context.Background(), append([]string{"sweep", "--grid", grid81, "--max-parallel", "4",
		"--manifest", filepath.Join(t.TempDir(), "sweep.json")}, base()...))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("sweep: %v\n%s", err, errb.String())
	}
	if n := len(h.srv.TrainingJobNames()); n != 81 {
		t.Fatalf("%d jobs created, want 81", n)
	}
	t.Logf("81-job sweep, 25 injected throttles, real backoff, --max-parallel 4 (the README's): %s", elapsed.Round(time.Millisecond))
	if elapsed > 30*time.Second {
		t.Errorf("81-job sweep took %s; want seconds", elapsed)
	}
}

// A rerun with anything that changes the jobs, or where they go, is another sweep:
// it submits its own jobs instead of reporting the first sweep's as submitted.
func TestSweepFingerprintCoversRequestAndRegion(t *testing.T) {
	t.Chdir(t.TempDir()) // the default manifest lands in the working folder
	h := newHarness(t)
	sweep := func(h *harness, extra ...string) result {
		t.Helper()
		return h.run(append(append([]string{"sweep", "--grid", "epochs=10,20"}, base()...), extra...)...)
	}
	if r := sweep(h); r.err != nil {
		t.Fatal(r.err)
	}
	if r := sweep(h); r.err != nil || !strings.Contains(r.stderr, "2 already submitted") {
		t.Fatalf("same sweep again: %v %s", r.err, r.stderr)
	}
	jobs := 2
	for _, extra := range [][]string{
		{"--env", "MODE=fast"},
		{"--tag", "team=blood"},
		{"--input-mode", "FastFile"},
		{"--network-isolation"},
		{"--spot", "--checkpoint", "s3://" + testBucket + "/ckpt", "--max-wait", "90000"},
		{"--spot", "--checkpoint", "s3://" + testBucket + "/ckpt", "--max-wait", "100000"},
	} {
		h.now = h.now.Add(time.Minute) // a later run: a new sweep id
		r := sweep(h, extra...)
		jobs += 2
		if r.err != nil || !strings.Contains(r.stderr, "0 already submitted") || len(h.srv.TrainingJobNames()) != jobs {
			t.Errorf("%v: %v, %d jobs on the server, want %d\n%s", extra, r.err, len(h.srv.TrainingJobNames()), jobs, r.stderr)
		}
	}
	west := newHarness(t, sagemakertest.WithRegion("us-west-2"))
	west.clients.SageMaker = sagemaker.New(west.clients.SageMaker.Options(), func(o *sagemaker.Options) { o.Region = "us-west-2" })
	if r := sweep(west, "--wait"); r.err != nil || len(west.srv.TrainingJobNames()) != 2 {
		t.Errorf("same sweep in us-west-2: %v, %d jobs there\n%s", r.err, len(west.srv.TrainingJobNames()), r.stderr)
	}
}
