// Package dockertest runs tests against a real Docker engine without pulling images:
// it builds a static binary on the host, puts it into an image FROM scratch and runs
// that image with --network none and mounted folders.
//
// Tests skip when no engine is reachable, unless BLUEBLOOD_REQUIRE_DOCKER=1, in which
// case they fail (CI sets it so a broken engine cannot pass silently).
package dockertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv set to 1 turns "no Docker engine" from a skip into a failure.
const RequireEnv = "BLUEBLOOD_REQUIRE_DOCKER"

// Engine is a reachable Docker engine driven through the docker CLI.
type Engine struct {
	bin string
}

// Require returns the engine, or skips the test when none is reachable (fails instead
// when BLUEBLOOD_REQUIRE_DOCKER=1).
func Require(t testing.TB) *Engine {
	t.Helper()
	e, err := Find()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("docker engine required (%s=1) but not usable: %v", RequireEnv, err)
		}
		t.Skipf("no docker engine: %v (set %s=1 to fail instead)", err, RequireEnv)
	}
	return e
}

// Find looks for the docker CLI and checks that the engine answers.
func Find() (*Engine, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return nil, errors.New("docker CLI not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("docker info: %v: %s", err, firstLine(out))
	}
	if strings.TrimSpace(string(out)) == "" {
		return nil, errors.New("docker info: engine reported no server version")
	}
	return &Engine{bin: bin}, nil
}

// ModuleRoot returns the folder holding go.mod for the current test's package.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("go env GOMOD: %v (%s)", err, out)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// BuildStatic builds the package pkg (an import path or a path relative to the module
// root) as a static linux/amd64-or-host binary named name in dir, the way the
// Dockerfile's build stage does, and returns its path.
func BuildStatic(t testing.TB, pkg, dir, name string) string {
	t.Helper()
	return BuildStaticIn(t, ModuleRoot(t), pkg, dir, name)
}

// BuildStaticIn is BuildStatic for the module at moduleDir, e.g. a build context made
// by BuildStageContext.
func BuildStaticIn(t testing.TB, moduleDir, pkg, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

var copyLine = regexp.MustCompile(`(?i)^\s*COPY\s+(.+)$`)

// isGolangStage reports whether the text after FROM names the golang image, tagged or not.
func isGolangStage(rest string) bool {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return false
	}
	image, _, _ := strings.Cut(f[0], ":")
	return image == "golang"
}

// BuildStageContext copies into dst what the first golang build stage of a multi-stage
// Dockerfile (a stage packaging a prebuilt binary may come before it) COPYs from the
// build context at root, the way Docker does (a folder's contents go to
// the destination folder; a file goes into a destination ending in "/" or "."). Building
// from dst proves the Dockerfile copies everything the build needs.
func BuildStageContext(t testing.TB, dockerfile, root, dst string) string {
	t.Helper()
	locs := fromLine.FindAllStringIndex(dockerfile, -1)
	if len(locs) < 2 {
		t.Fatalf("dockerfile has %d stage(s); expected a multi-stage build", len(locs))
	}
	k := 0
	for k < len(locs)-1 && !isGolangStage(dockerfile[locs[k][1]:]) {
		k++
	}
	if k == len(locs)-1 {
		t.Fatalf("dockerfile has no golang build stage followed by another stage")
	}
	copied := 0
	for _, line := range strings.Split(dockerfile[locs[k][0]:locs[k+1][0]], "\n") {
		m := copyLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(strings.TrimSpace(m[1]), "--") {
			continue
		}
		args := strings.Fields(m[1])
		if len(args) < 2 {
			t.Fatalf("dockerfile: %q: expected sources and a destination", strings.TrimSpace(line))
		}
		to := args[len(args)-1]
		for _, src := range args[:len(args)-1] {
			from := filepath.Join(root, filepath.FromSlash(src))
			st, err := os.Stat(from)
			if err != nil {
				t.Fatalf("dockerfile: %q: %v", strings.TrimSpace(line), err)
			}
			target := filepath.Join(dst, filepath.FromSlash(to))
			if st.IsDir() {
				CopyTree(t, from, target)
			} else {
				if strings.HasSuffix(to, "/") || to == "." {
					target = filepath.Join(target, filepath.Base(from))
				}
				data, err := os.ReadFile(from)
				if err == nil {
					os.MkdirAll(filepath.Dir(target), 0o755)
					err = os.WriteFile(target, data, 0o644)
				}
				if err != nil {
					t.Fatalf("copy %s: %v", src, err)
				}
			}
			copied++
		}
	}
	if copied == 0 {
		t.Fatalf("dockerfile's build stage copies nothing from the build context")
	}
	return dst
}

// ScratchDockerfile is a one-stage Dockerfile that copies binary (a file name in the
// build context) to dst in an empty image with an exec-form ENTRYPOINT.
func ScratchDockerfile(binary, dst string) string {
	return fmt.Sprintf("FROM scratch\nCOPY %s %s\nENTRYPOINT [%q]\n", binary, dst, dst)
}

// PrebuiltContext writes a build context to dst: the Dockerfile as given, and binary at
// the path its one COPY line copies from, so a test builds the production Dockerfile
// (host-built binary, one stage) exactly as a user does.
func PrebuiltContext(t testing.TB, dockerfile []byte, binary, dst string) {
	t.Helper()
	if n := len(fromLine.FindAllIndex(dockerfile, -1)); n != 1 {
		t.Fatalf("Dockerfile has %d stages; expected one that copies the host-built binary", n)
	}
	var srcs []string
	for _, line := range strings.Split(string(dockerfile), "\n") {
		if m := copyLine.FindStringSubmatch(line); m != nil {
			srcs = append(srcs, strings.Fields(m[1])[0])
		}
	}
	if len(srcs) != 1 || strings.HasPrefix(srcs[0], "--") {
		t.Fatalf("Dockerfile COPYs %q; expected one file from the build context", srcs)
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dst, filepath.FromSlash(srcs[0]))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "Dockerfile"), dockerfile, 0o644); err != nil {
		t.Fatal(err)
	}
}

var fromLine = regexp.MustCompile(`(?im)^\s*FROM\s+`)

// ProductionContext is PrebuiltContext for the module's own Dockerfile, built as the
// README does.
func ProductionContext(t testing.TB, binary, dst string) {
	t.Helper()
	df, err := os.ReadFile(filepath.Join(ModuleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	PrebuiltContext(t, df, binary, dst)
}

// BuildImage builds an image from a context folder holding a Dockerfile and returns its
// tag; the image is removed when the test ends. The legacy builder is used because it
// needs no buildx plugin and can build FROM scratch without any network.
func (e *Engine) BuildImage(t testing.TB, contextDir string) string {
	t.Helper()
	tag := "blueblood-test-" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, "build", "--network", "none", "-q", "-t", tag, contextDir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(e.bin, "rmi", "-f", tag).Run() })
	return tag
}

// Inspect returns `docker image inspect --format format image`, trimmed.
func (e *Engine) Inspect(t testing.TB, image, format string) string {
	t.Helper()
	out, err := exec.Command(e.bin, "image", "inspect", "--format", format, image).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", image, err)
	}
	return strings.TrimSpace(string(out))
}

// ImageSize returns the image's size in bytes.
func (e *Engine) ImageSize(t testing.TB, image string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(e.Inspect(t, image, "{{.Size}}"), &n); err != nil {
		t.Fatalf("docker image inspect %s: size: %v", image, err)
	}
	return n
}

// Mount binds a host folder into the container.
type Mount struct {
	Host, Container string
	ReadOnly        bool
}

// RunOptions describes one `docker run --rm --network none`.
type RunOptions struct {
	Image  string
	Args   []string // after the image, e.g. "train"
	Mounts []Mount
	Env    map[string]string
	// Timeout bounds the run; 0 means 5 minutes. The container is killed on timeout.
	Timeout time.Duration
	// OnStdoutLine, if set, sees every stdout line as it arrives (e.g. to stop the
	// container after the first epoch). It runs on the reading goroutine.
	OnStdoutLine func(c *Container, line string)
}

// Container is a running `docker run`.
type Container struct {
	Name   string
	engine *Engine
}

// Stop sends SIGTERM through `docker stop -t grace` (SIGKILL after grace), as SageMaker
// does with a 120 s grace.
func (c *Container) Stop(grace time.Duration) error {
	out, err := exec.Command(c.engine.bin, "stop", "-t", fmt.Sprint(int(grace.Seconds())), c.Name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker stop %s: %v: %s", c.Name, err, firstLine(out))
	}
	return nil
}

// Result is a finished run.
type Result struct {
	ExitCode int
	Stdout   string
	Stderr   string
	Elapsed  time.Duration
}

// Run runs the image in the foreground and returns its exit code and output. It never
// gives the container a network.
func (e *Engine) Run(t testing.TB, o RunOptions) *Result {
	t.Helper()
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	c := &Container{Name: "blueblood-test-" + randomSuffix(), engine: e}
	args := []string{"run", "--rm", "--network", "none", "--name", c.Name}
	for _, m := range o.Mounts {
		v := m.Host + ":" + m.Container
		if m.ReadOnly {
			v += ":ro"
		}
		args = append(args, "-v", v)
	}
	for k, v := range o.Env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, o.Image)
	args = append(args, o.Args...)

	cmd := exec.Command(e.bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("docker run: %v", err)
	}
	timer := time.AfterFunc(timeout, func() { exec.Command(e.bin, "kill", c.Name).Run() })
	defer timer.Stop()

	var stdout bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			stdout.WriteString(sc.Text() + "\n")
			if o.OnStdoutLine != nil {
				o.OnStdoutLine(c, sc.Text())
			}
		}
		io.Copy(io.Discard, pipe)
	}()
	wg.Wait()
	err = cmd.Wait()
	res := &Result{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	default:
		t.Fatalf("docker run: %v\nstderr:\n%s", err, stderr.String())
	}
	return res
}

// CopyTree copies the folder src to dst (created), e.g. an opt_ml fixture into a temp
// folder that a container may write to.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
