package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
)

// dockerInstructions returns a Dockerfile's instructions (comments and blank lines
// dropped) and its FROM lines.
func dockerInstructions(t *testing.T, path string) (df string, instr, froms []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			instr = append(instr, l)
			if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
				froms = append(froms, l)
			}
		}
	}
	return string(data), instr, froms
}

// TestDockerfile checks both Dockerfiles against the SageMaker contract without building
// them (CI cannot pull the golang base image): the Dockerfile packages the host-built
// binary in one stage that pulls nothing, so a plain `docker build .` works with BuildKit
// and the classic builder alike; build.Dockerfile builds the binary in golang stages.
// Their runtime stages end alike.
func TestDockerfile(t *testing.T) {
	_, instr, froms := dockerInstructions(t, "../Dockerfile")
	bdf, binstr, bfroms := dockerInstructions(t, "build.Dockerfile")
	tail := func(in []string) string { return strings.Join(in[len(in)-2:], "\n") }
	runtimeOK := func(in []string) []bool {
		all := strings.Join(in, "\n")
		return []bool{
			regexp.MustCompile(`^ENTRYPOINT \["/[^"]+"\]$`).MatchString(in[len(in)-1]),
			!strings.Contains(strings.ToLower(all), "tini"),
			!strings.Contains(all, "/opt/ml"),
			!regexp.MustCompile(`(?m)^USER `).MatchString(all),
			!regexp.MustCompile(`(?m)^CMD `).MatchString(all),
			slices.Contains(in, "LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true"),
		}
	}
	names := []string{"exec-form ENTRYPOINT as the last instruction", "no tini", "nothing under /opt/ml", "runs as root (no USER)",
		"no CMD that SageMaker's train argument would replace", "accepts SAGEMAKER_BIND_TO_PORT (label)"}
	checks := []struct {
		name string
		ok   bool
	}{
		{"Dockerfile: one stage, FROM scratch (no pulls, any builder)", len(froms) == 1 && strings.HasPrefix(froms[0], "FROM scratch")},
		{"Dockerfile: copies the host-built bin/trainer-static", slices.Contains(instr, "COPY bin/trainer-static /usr/local/bin/trainer")},
		{"build.Dockerfile: golang build stages", len(bfroms) >= 2 && slices.ContainsFunc(bfroms, func(f string) bool { return strings.Contains(f, "golang:") })},
		{"build.Dockerfile: runtime stage FROM scratch", strings.HasPrefix(bfroms[len(bfroms)-1], "FROM scratch")},
		{"build.Dockerfile: static pure-Go build (CGO_ENABLED=0)", strings.Contains(bdf, "CGO_ENABLED=0")},
		{"build.Dockerfile: builds ./container", regexp.MustCompile(`go build .*\./container\b`).MatchString(bdf)},
		{"both end with the same COPY destination and ENTRYPOINT", strings.HasSuffix(tail(binstr), "/usr/local/bin/trainer\n"+instr[len(instr)-1])},
	}
	for i, ok := range runtimeOK(instr) {
		checks = append(checks, struct {
			name string
			ok   bool
		}{"Dockerfile: " + names[i], ok})
	}
	for i, ok := range runtimeOK(binstr) {
		checks = append(checks, struct {
			name string
			ok   bool
		}{"build.Dockerfile: " + names[i], ok})
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s", c.name)
		}
	}
}

// TestBuildspec checks the CodeBuild spec's contract: tests before the build, ECR login,
// commit and latest tags, and pushes guarded by the build's success.
func TestBuildspec(t *testing.T) {
	data, err := os.ReadFile("../buildspec.yml")
	if err != nil {
		t.Fatal(err)
	}
	spec := string(data)
	order := []string{"go test ./...", "aws ecr get-login-password", "docker build", "CODEBUILD_BUILD_SUCCEEDING", "docker push"}
	last := -1
	for _, s := range order {
		i := strings.Index(spec, s)
		if i < 0 {
			t.Errorf("buildspec.yml lacks %q", s)
			continue
		}
		if i < last {
			t.Errorf("buildspec.yml: %q comes before an earlier step", s)
		}
		last = i
	}
	for _, s := range []string{"version: 0.2", "CODEBUILD_RESOLVED_SOURCE_VERSION", ":latest", "${IMAGE_TAG}", "--password-stdin"} {
		if !strings.Contains(spec, s) {
			t.Errorf("buildspec.yml lacks %q", s)
		}
	}
	if strings.Contains(spec, "\t") {
		t.Error("buildspec.yml contains tabs, which YAML rejects")
	}
	// The tag fallback must give a valid ECR tag when no source version is set.
	tagLines := regexp.MustCompile(`(?m)^\s*- (COMMIT|IMAGE_TAG)=.*$`).FindAllString(spec, -1)
	if len(tagLines) < 3 {
		t.Fatalf("tag computation not found: %q", tagLines)
	}
	script := ""
	for _, l := range tagLines {
		script += strings.TrimPrefix(strings.TrimSpace(l), "- ") + "\n"
	}
	for _, tc := range []struct{ env, want string }{
		{"CODEBUILD_RESOLVED_SOURCE_VERSION=0123456789abcdef0123", "^0123456789ab$"},
		{"CODEBUILD_SOURCE_VERSION=pr/12", "^pr-12$"},
		{"CODEBUILD_BUILD_NUMBER=7", "^build-7$"},
	} {
		cmd := exec.Command("sh", "-c", script+`printf %s "$IMAGE_TAG"`)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), tc.env}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tag script: %v", err)
		}
		if !regexp.MustCompile(tc.want).Match(out) {
			t.Errorf("with %s the tag is %q, want %s", tc.env, out, tc.want)
		}
	}
}

// TestDocker runs the production runtime stage (FROM scratch + the static binary) with
// a real engine against mounted /opt/ml fixture trees.
func TestDocker(t *testing.T) {
	engine := dockertest.Require(t)
	image, raw := productionImage(t, engine)
	size := engine.ImageSize(t, image)
	t.Logf("image %s: %.1f MB (binary %.1f MB)", image, float64(size)/1e6, float64(len(raw))/1e6)
	const maxImageSize = 25e6 // issue #4: the runtime image stays under 25 MB
	if float64(size) >= maxImageSize {
		t.Errorf("runtime image is %.1f MB; the target is under %.0f MB", float64(size)/1e6, maxImageSize/1e6)
	}

	if got := engine.Inspect(t, image, "{{json .Config.Entrypoint}} {{json .Config.User}} {{json .Config.Cmd}}"); got != `["/usr/local/bin/trainer"] "" null` {
		t.Errorf("image config %s, want exec-form entrypoint, root, no CMD", got)
	}

	mount := func(root string) []dockertest.Mount {
		return []dockertest.Mount{{Host: root, Container: "/opt/ml"}}
	}

	t.Run("train", func(t *testing.T) {
		root := copyFixture(t, "basic")
		var once sync.Once
		var firstEpoch time.Duration
		start := time.Now()
		res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"train"}, Mounts: mount(root),
			Env: map[string]string{"TRAINING_JOB_NAME": "docker-test"},
			OnStdoutLine: func(_ *dockertest.Container, line string) {
				if strings.HasPrefix(line, "epoch=1/") {
					once.Do(func() { firstEpoch = time.Since(start) })
				}
			}})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", res.ExitCode, res.Stderr)
		}
		inside := regexp.MustCompile(`first epoch finished ([0-9.]+) s after start`).FindStringSubmatch(res.Stderr)
		if inside == nil {
			t.Errorf("log lacks the time to first epoch:\n%s", res.Stderr)
		} else {
			t.Logf("first epoch: %s s after the trainer started, %v after docker run (whole run %v)", inside[1], firstEpoch.Round(time.Millisecond), res.Elapsed.Round(time.Millisecond))
		}
		if _, err := model.Load(filepath.Join(root, "model")); err != nil {
			t.Errorf("model/: %v", err)
		}
		for _, f := range []string{trainer.MetricsFile, trainer.PredictionsFile, trainer.LossChartFile, trainer.ErrorChartFile, trainer.ReportFile} {
			if st, err := os.Stat(filepath.Join(root, "output", "data", f)); err != nil || st.Size() == 0 {
				t.Errorf("output/data/%s: %v", f, err)
			}
		}
		var s struct {
			TrainingJobName string `json:"training_job_name"`
		}
		mj, _ := os.ReadFile(filepath.Join(root, "output/data/metrics.json"))
		if json.Unmarshal(mj, &s); s.TrainingJobName != "docker-test" {
			t.Errorf("training_job_name %q, want the container's TRAINING_JOB_NAME", s.TrainingJobName)
		}
		if _, err := os.Stat(filepath.Join(root, "output", "failure")); err == nil {
			t.Error("failure file after success")
		}
		lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if got := metricdef.Scrape(lines[len(lines)-1]); len(got) < 4 || !strings.HasPrefix(lines[len(lines)-1], "best epoch=") {
			t.Errorf("last line %q scrapes to %v", lines[len(lines)-1], got)
		}
	})

	// SageMaker (and its local mode) mounts model/, output/data, checkpoints and every
	// channel separately: renames must stay inside each mount, and channels may be read-only.
	t.Run("separate mounts", func(t *testing.T) {
		root := copyFixture(t, "channels")
		mounts := mount(root)
		for _, d := range []string{"model", "output/data", "checkpoints"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
			mounts = append(mounts, dockertest.Mount{Host: filepath.Join(root, d), Container: "/opt/ml/" + d})
		}
		for _, ch := range []string{"train", "validation", "test"} {
			mounts = append(mounts, dockertest.Mount{Host: filepath.Join(root, "input", "data", ch),
				Container: "/opt/ml/input/data/" + ch, ReadOnly: true})
		}
		res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"train"}, Mounts: mounts})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", res.ExitCode, res.Stderr)
		}
		if _, err := model.Load(filepath.Join(root, "model")); err != nil {
			t.Errorf("model/: %v", err)
		}
		for _, f := range []string{trainer.MetricsFile, trainer.PredictionsFile, trainer.ReportFile} {
			if st, err := os.Stat(filepath.Join(root, "output", "data", f)); err != nil || st.Size() == 0 {
				t.Errorf("output/data/%s: %v", f, err)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "checkpoints", trainer.CheckpointFile)); err != nil {
			t.Errorf("checkpoint in the checkpointconfig.json LocalPath: %v", err)
		}
	})

	t.Run("bad hyperparameters", func(t *testing.T) {
		root := copyFixture(t, "basic")
		os.WriteFile(filepath.Join(root, "input/config/hyperparameters.json"), []byte(`{"lerning_rate":"0.01"}`), 0o644)
		res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"train"}, Mounts: mount(root)})
		if res.ExitCode != 1 {
			t.Errorf("exit %d, want 1", res.ExitCode)
		}
		got, err := os.ReadFile(filepath.Join(root, "output", "failure"))
		if want := "input/config/hyperparameters.json: unknown hyperparameter lerning_rate; did you mean learning_rate?\n"; err != nil || string(got) != want {
			t.Errorf("failure file %q (%v), want %q", got, err, want)
		}
		if entries, _ := os.ReadDir(filepath.Join(root, "model")); len(entries) != 0 {
			t.Errorf("model/ not empty after failure")
		}
	})

	t.Run("usage", func(t *testing.T) {
		res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"fit"}})
		if res.ExitCode != 2 || !strings.Contains(res.Stderr, "usage: trainer") {
			t.Errorf("exit %d stderr %q, want 2 and usage", res.ExitCode, res.Stderr)
		}
		res = engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"metric-definitions"}})
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, `"validation:rmse"`) {
			t.Errorf("metric-definitions: exit %d stdout %q", res.ExitCode, res.Stdout)
		}
	})

	t.Run("docker stop", func(t *testing.T) {
		root := copyFixture(t, "basic")
		longRun(t, root)
		var once sync.Once
		stopErr := make(chan error, 1)
		res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"train"}, Mounts: mount(root), Timeout: 3 * time.Minute,
			OnStdoutLine: func(c *dockertest.Container, line string) {
				if strings.HasPrefix(line, "epoch=1/") {
					// docker stop blocks until exit; run it aside so stdout keeps draining.
					once.Do(func() { go func() { stopErr <- c.Stop(120 * time.Second) }() })
				}
			}})
		select {
		case err := <-stopErr:
			if err != nil {
				t.Errorf("docker stop: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("docker stop did not return")
		}
		if res.ExitCode != trainer.ExitStopped {
			t.Fatalf("exit %d, want %d\nstderr:\n%s", res.ExitCode, trainer.ExitStopped, res.Stderr)
		}
		if !strings.Contains(res.Stderr, "SIGTERM") {
			t.Errorf("log does not mention SIGTERM:\n%s", res.Stderr)
		}
		checkStopped(t, root)
	})
}
