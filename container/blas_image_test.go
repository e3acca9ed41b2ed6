package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/model"
)

// TestOpenBLASTrainer builds the default image's trainer (static OpenBLAS) the way the
// README's host-built path does, checks that it picks OpenBLAS's kernel from the CPU's
// features by itself, and runs it in the image the Dockerfile packages it in.
func TestOpenBLASTrainer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a static OpenBLAS binary (about a minute)")
	}
	lib, err := exec.Command("gcc", "-print-file-name=libopenblas.a").Output()
	if err != nil || !filepath.IsAbs(strings.TrimSpace(string(lib))) {
		t.Skip("no static OpenBLAS (Debian's libopenblas-dev) for the C toolchain")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "trainer-static")
	// the README's command and the Dockerfile's build-openblas flags
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "openblas osusergo netgo",
		"-ldflags", "-s -w -linkmode external -extldflags -static", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static OpenBLAS build: %v\n%s", err, out)
	}

	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo: %v", err)
	}
	want := coreTypeFor(cpuFlags(string(info)))
	startup := regexp.MustCompile(`(?m)^trainer: \d+ cores .* BLAS openblas, kernel (\S+), 1 thread\(s\)(?: \(OPENBLAS_CORETYPE=(\S+)\))?$`)
	t.Run("kernel from CPU features", func(t *testing.T) {
		if want == "" {
			t.Skip("this CPU has none of the features the trainer maps to a kernel")
		}
		for _, tc := range []struct{ env, kernel string }{
			{"", want},                               // unset: the trainer re-executes itself with the CPU's kernel
			{"OPENBLAS_CORETYPE=Nehalem", "Nehalem"}, // set: kept
		} {
			c := exec.Command(bin, "train")
			c.Env = []string{"SAGEMAKER_BASE_DIR=" + t.TempDir()} // no OpenBLAS variables
			if tc.env != "" {
				c.Env = append(c.Env, tc.env)
			}
			out, _ := c.CombinedOutput() // fails later: the root is empty
			m := startup.FindStringSubmatch(string(out))
			if m == nil {
				t.Fatalf("env %q: no startup line in\n%s", tc.env, out)
			}
			if m[1] != tc.kernel || m[2] != tc.kernel {
				t.Errorf("env %q: kernel %s (OPENBLAS_CORETYPE=%q), want %s", tc.env, m[1], m[2], tc.kernel)
			}
		}
	})

	t.Run("image", func(t *testing.T) {
		engine := dockertest.Require(t)
		// the production Dockerfile packages the host-built binary, as the README does
		ctxDir := filepath.Join(dir, "context")
		dockertest.ProductionContext(t, bin, ctxDir)
		image := engine.BuildImage(t, ctxDir)
		st, _ := os.Stat(bin)
		size := engine.ImageSize(t, image)
		t.Logf("image %.1f MB (binary %.1f MB)", float64(size)/1e6, float64(st.Size())/1e6)
		if size >= 60e6 {
			t.Errorf("OpenBLAS image is %.1f MB; the target is under 60 MB", float64(size)/1e6)
		}
		root := copyFixture(t, "basic")
		res := engine.Run(t, dockertest.RunOptions{Image: image, Args: []string{"train"},
			Mounts: []dockertest.Mount{{Host: root, Container: "/opt/ml"}}})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", res.ExitCode, res.Stderr)
		}
		if m := startup.FindStringSubmatch(res.Stderr); m == nil || (want != "" && m[1] != want) {
			t.Errorf("startup line %q, want kernel %q\n%s", m, want, res.Stderr)
		}
		if _, err := model.Load(filepath.Join(root, "model")); err != nil {
			t.Errorf("model/: %v", err)
		}
	})
}
