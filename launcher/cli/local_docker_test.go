package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireDocker mirrors container/internal/dockertest (internal to container/, so not
// importable here): skip without an engine unless BLUEBLOOD_REQUIRE_DOCKER=1.
func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err == nil && strings.TrimSpace(string(out)) != "" {
		return
	}
	if os.Getenv("BLUEBLOOD_REQUIRE_DOCKER") == "1" {
		t.Fatalf("docker engine required (BLUEBLOOD_REQUIRE_DOCKER=1) but not usable: %v %s", err, out)
	}
	t.Skipf("no docker engine: %v", err)
}

// TestLocalImageRealDocker runs `launcher local --image` against a real engine: an image
// FROM scratch holding the host-built static trainer, trained on the bundled small table.
func TestLocalImageRealDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer and an image")
	}
	requireDocker(t)
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "trainer"), "github.com/blueblood/blueblood/container")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build trainer: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY trainer /usr/local/bin/trainer\nENTRYPOINT [\"/usr/local/bin/trainer\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("blueblood-launcher-local-test:%d", time.Now().UnixNano())
	img := exec.Command("docker", "build", "-q", "-t", tag, dir)
	img.Env = append(os.Environ(), "DOCKER_BUILDKIT=0") // no buildx here; the legacy builder suffices for FROM scratch
	if out, err := img.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })

	h := newHarness(t)
	var o, e = newBuf(), newBuf()
	env := h.env(o, e)
	env.LookPath = exec.LookPath
	out := filepath.Join(t.TempDir(), "run")
	data := filepath.Join("..", "..", "pipeline", "testdata", "synthetic_small.csv")
	err := env.Run(t.Context(), []string{"local", "--image", tag, "--train", data, "--output", out,
		"--epochs", "2", "--lstm-units", "4", "--batch-size", "16", "--hp", "encoder_units=4"})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, o.String(), e.String())
	}
	for _, f := range []string{"model/model.json", "output/data/metrics.json", "output/data/predictions.csv", "output/data/report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not copied out of the container run: %v", f, err)
		}
	}
	if !strings.Contains(o.String(), "best epoch=") {
		t.Errorf("container log not streamed:\n%s", o.String())
	}
}
