package serve_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/model"
)

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// checkServing sends cases to a running server and compares with m's own predictions.
func checkServing(t *testing.T, url string, m *model.Model) {
	t.Helper()
	cases := tinySamples(3, 8, 42)
	want, err := m.Predict(cases)
	if err != nil {
		t.Fatal(err)
	}
	a := post(t, url, "application/json", jsonCases(t, cases))
	if a.status != 200 {
		t.Fatalf("JSON status %d: %s", a.status, a.body)
	}
	var got [][]float32
	for _, p := range decodeJSON(t, a.body).Predictions {
		got = append(got, p.Post.Vals)
	}
	if err := sameBits(got, want); err != nil {
		t.Errorf("JSON answer differs from Predict: %v", err)
	}
	a = post(t, url, "text/csv", csvCases(cases, 8))
	if a.status != 200 {
		t.Fatalf("CSV status %d: %s", a.status, a.body)
	}
	if _, _, vals := decodeCSV(t, a.body); sameBits(vals, want) != nil {
		t.Errorf("CSV answer differs from Predict: %v", sameBits(vals, want))
	}
	if a := post(t, url, "text/plain", []byte("x")); a.status != 415 {
		t.Errorf("text/plain: %d, want 415", a.status)
	}
}

// TestServeBinarySIGTERM runs the real trainer binary as SageMaker would (`trainer serve`
// under SAGEMAKER_BASE_DIR), then stops it with SIGTERM.
func TestServeBinarySIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer binary")
	}
	dir, m := trainTiny(t, model.ArchPooledResidual)
	root := t.TempDir()
	dockertest.CopyTree(t, dir, filepath.Join(root, "model"))
	bin := dockertest.BuildStatic(t, "./container", t.TempDir(), "trainer")
	port := freePort(t)
	cmd := exec.Command(bin, "serve", "--host", "127.0.0.1")
	cmd.Env = append(os.Environ(), "SAGEMAKER_BASE_DIR="+root, "SAGEMAKER_BIND_TO_PORT="+strconv.Itoa(port))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	waitReady(t, url)
	checkServing(t, url, m)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("trainer serve exited with %v after SIGTERM; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("trainer serve still running 10s after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown log line; stderr:\n%s", stderr.String())
	}
}

// TestServeInDocker runs the production runtime stage (with a host-built binary) as
// SageMaker hosting does: the model folder mounted at /opt/ml/model, `serve` as the
// argument. The container shares the host's network namespace and listens on loopback
// only, so the test needs no bridge network and sends nothing off the machine.
func TestServeInDocker(t *testing.T) {
	e := dockertest.Require(t)
	dir, m := trainTiny(t, model.ArchPooledResidual)
	// a copy with plain 0644 files, readable by the container whatever the umask
	modelDir := filepath.Join(t.TempDir(), "model")
	dockertest.CopyTree(t, dir, modelDir)

	binDir := t.TempDir()
	bin := dockertest.BuildStatic(t, "./container", binDir, "trainer")
	ctxDir := t.TempDir()
	dockertest.ProductionContext(t, bin, ctxDir)
	image := e.BuildImage(t, ctxDir)

	port := freePort(t)
	name := "blueblood-serve-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	run := exec.Command("docker", "run", "-d", "--network", "host", "--name", name,
		"-v", modelDir+":/opt/ml/model:ro",
		"-e", "SAGEMAKER_BIND_TO_PORT="+strconv.Itoa(port),
		image, "serve", "--host", "127.0.0.1")
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	waitReady(t, url)
	checkServing(t, url, m)

	// docker stop sends SIGTERM, as SageMaker does on scale-in (SIGKILL 30 s later)
	start := time.Now()
	if out, err := exec.Command("docker", "stop", "-t", "30", name).CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v\n%s", err, out)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("stop took %v; the server should exit promptly on SIGTERM", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.State.ExitCode}}", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	if code := strings.TrimSpace(string(out)); code != "0" {
		logs, _ := exec.Command("docker", "logs", name).CombinedOutput()
		t.Fatalf("exit code %s after SIGTERM, want 0; logs:\n%s", code, logs)
	}
}
