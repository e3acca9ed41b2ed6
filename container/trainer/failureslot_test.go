package trainer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

func TestFailureReasonOutOfSpace(t *testing.T) {
	err := fmt.Errorf("write output/data/predictions.csv: %w", &fs.PathError{Op: "write", Path: "/opt/ml/output/data/.predictions.csv.tmp-1", Err: syscall.ENOSPC})
	got := failureReason(err)
	want := "out of disk space (raise the job's VolumeSizeInGB): write output/data/predictions.csv: write /opt/ml/output/data/.predictions.csv.tmp-1: no space left on device"
	if got != want {
		t.Errorf("FailureReason = %q\nwant %q", got, want)
	}
}

// mountTinyTmpfs mounts a tmpfs of the given size on dir for the test, or skips the
// test where that is not allowed (not root, no mount command).
func mountTinyTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
}

// fill writes into dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, ".filler"))
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return
		}
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func TestFailureSlotOnFullVolume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "output")
	mountTinyTmpfs(t, out, "64k")
	slot, err := reserveFailure(filepath.Join(out, "failure"))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, out)
	if err := atomicfile.WriteFile(filepath.Join(out, "probe"), []byte("x")); err == nil {
		t.Fatal("the volume is not full: a new file could still be written")
	}
	cause := fmt.Errorf("write output/data/metrics.json: %w", syscall.ENOSPC)
	if err := slot.write(cause); err != nil {
		t.Fatalf("failure not written on a full volume: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(out, "failure"))
	if err != nil {
		t.Fatal(err)
	}
	if want := failureReason(cause) + "\n"; string(got) != want {
		t.Errorf("failure %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(out, ".failure.reserved")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reserve left behind: %v", err)
	}
}

func TestFailureSlotReleased(t *testing.T) {
	out := filepath.Join(t.TempDir(), "output")
	slot, err := reserveFailure(filepath.Join(out, "failure"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(out, ".failure.reserved"))
	if err != nil || st.Size() != MaxFailureBytes {
		t.Fatalf("reserve: %v, %v", st, err)
	}
	slot.release()
	ents, _ := os.ReadDir(out)
	if len(ents) != 0 {
		t.Errorf("output/ holds %v after release", ents)
	}
}

// The case: outputs fill the output volume; the job must still say why it failed.
func TestTrainOutputVolumeFull(t *testing.T) {
	root := copyFixture(t, "basic")
	out := filepath.Join(root, "output")
	mountTinyTmpfs(t, out, "256k")
	setHyperparameters(t, root, map[string]string{"epochs": "1"})
	filled := false
	res := runTrain(t, context.Background(), root, func(line string) {
		if !filled && strings.Contains(line, "first epoch finished") {
			filled = true
			fill(t, out)
		}
	})
	if res.err == nil {
		t.Fatal("Train succeeded on a full output volume")
	}
	got, err := os.ReadFile(filepath.Join(out, "failure"))
	if err != nil {
		t.Fatalf("no failure file: %v (Train: %v)", err, res.err)
	}
	if !strings.HasPrefix(string(got), "out of disk space (raise the job's VolumeSizeInGB): ") || !strings.Contains(string(got), "no space left on device") {
		t.Errorf("failure %q", got)
	}
}
