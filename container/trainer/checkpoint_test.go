package trainer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/model"
)

// TestCheckpointWriteErrorsSurface: checkpoints are written in the background, yet a
// failed write still reaches training (at the next checkpoint) and the end of the run
// (checkpointWritten), and a good write lands on disk once it is waited for.
func TestCheckpointWriteErrorsSurface(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := &run{cfg: &Config{CheckpointDir: filepath.Join(blocker, "ckpt")}}
	if err := r.saveCheckpoint(&model.Checkpoint{Epoch: 1}); err != nil {
		t.Fatalf("first save returned %v; its write is still in flight", err)
	}
	if err := r.saveCheckpoint(&model.Checkpoint{Epoch: 2}); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("second save returned %v, expected the first write's error", err)
	}
	if err := r.checkpointWritten(); err == nil {
		t.Error("checkpointWritten returned nil for a write that cannot succeed")
	}

	r = &run{cfg: &Config{CheckpointDir: filepath.Join(dir, "ok")}}
	if err := r.saveCheckpoint(&model.Checkpoint{Epoch: 3}); err != nil {
		t.Fatal(err)
	}
	if err := r.checkpointWritten(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.checkpointPath()); err != nil {
		t.Errorf("checkpoint not on disk after checkpointWritten: %v", err)
	}
}
