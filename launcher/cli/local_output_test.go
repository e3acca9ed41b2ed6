package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func localArgs(out string, extra ...string) []string {
	return append([]string{"local", "--trainer", "testdata/fake-trainer.sh", "--train", "testdata/train.csv", "--output", out}, extra...)
}

// --output is checked before the trainer runs, and nothing the launcher did not
// write is ever replaced or deleted.
func TestLocalOutputCheckedBeforeWork(t *testing.T) {
	h := newHarness(t)
	write := func(p, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mine := t.TempDir()
	write(filepath.Join(mine, "notes.txt"), "mine")
	write(filepath.Join(mine, "output", "thesis.tex"), "my own output folder")
	file := filepath.Join(t.TempDir(), "model.out")
	write(file, "a file")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"non-empty folder", localArgs(mine), "folder is not empty; choose a new folder, or give --force"},
		{"user's output/ with --force", localArgs(mine, "--force"), "output/ exists and no earlier launcher local run wrote it"},
		{"a file", localArgs(file), "exists and is not a folder"},
	} {
		r := h.run(tt.args...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, r.err, tt.want)
		}
		if strings.Contains(r.stdout, "job=") {
			t.Errorf("%s: the trainer ran before the check", tt.name)
		}
	}
	for p, want := range map[string]string{filepath.Join(mine, "notes.txt"): "mine", filepath.Join(mine, "output", "thesis.tex"): "my own output folder", file: "a file"} {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("%s changed: %q %v", p, b, err)
		}
	}

	// --force into a folder of other files: they stay, model/ and output/ are added.
	shared := t.TempDir()
	write(filepath.Join(shared, "notes.txt"), "mine")
	if r := h.run(localArgs(shared, "--force")...); r.err != nil {
		t.Fatalf("--force: %v\n%s", r.err, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(shared, "notes.txt")); string(b) != "mine" {
		t.Error("notes.txt changed")
	}
	// An earlier run's folder: refused without --force, replaced with it.
	if r := h.run(localArgs(shared)...); ExitCode(r.err) != ExitUsage {
		t.Errorf("rerun without --force: %v", r.err)
	}
	if r := h.run(localArgs(shared, "--force")...); r.err != nil {
		t.Errorf("rerun with --force: %v", r.err)
	}
}

// Channel files must be regular files: /dev/zero, a link to it or a FIFO would be
// copied forever (and fill the disk). The test uses /dev/null, a device of the
// same kind, so that a regression fails the test instead of filling the disk.
func TestLocalTrainRegularFilesOnly(t *testing.T) {
	h := newHarness(t)
	linked := t.TempDir()
	if err := os.Symlink("/dev/null", filepath.Join(linked, "null.csv")); err != nil {
		t.Fatal(err)
	}
	fifo := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifo, "pipe.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"/dev/null", linked, fifo} {
		r := h.run("local", "--trainer", "testdata/fake-trainer.sh", "--train", src, "--output", filepath.Join(t.TempDir(), "run"))
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "not a regular file") {
			t.Errorf("--train %s: %v", src, r.err)
		}
	}
}

// --env values never appear in what local prints (or in docker's arguments), and
// credentials are refused as for train.
func TestLocalImageKeepsEnvValuesOutOfArguments(t *testing.T) {
	h := newHarness(t)
	o, e := newBuf(), newBuf()
	env := h.env(o, e)
	env.LookPath = func(name string) (string, error) {
		if name == "docker" {
			return "testdata/fake-docker.sh", nil
		}
		return "", exec.ErrNotFound
	}
	err := env.Run(t.Context(), []string{"local", "--image", "blueblood:dev", "--train", "testdata/train.csv",
		"--output", t.TempDir(), "--env", "DB_PASSWORD=hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.String(), "hunter2") || strings.Contains(o.String(), "docker run") && strings.Contains(strings.SplitN(o.String(), "\n", 2)[0], "hunter2") {
		t.Errorf("value printed:\nstderr %s\nstdout %s", e.String(), o.String())
	}
	if !strings.Contains(o.String(), "container env DB_PASSWORD=hunter2") {
		t.Errorf("value not passed through the environment:\n%s", o.String())
	}
	for _, kv := range []string{"AWS_SECRET_ACCESS_KEY=x", "aws_session_token=y"} {
		r := h.run(localArgs(t.TempDir(), "--env", kv)...)
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "credentials do not go into the container") {
			t.Errorf("--env %s: %v", kv, r.err)
		}
	}
}
