package trainer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint with one flipped byte fails the job with a message saying so; it must
// never resume into a different model.
func TestTrainRefusesCorruptCheckpoint(t *testing.T) {
	root := copyFixture(t, "basic")
	setHyperparameters(t, root, map[string]string{"epochs": "2", "checkpoint_every": "1"})
	if res := runTrain(t, context.Background(), root, nil); res.err != nil {
		t.Fatalf("first run: %v\n%s", res.err, res.stderr)
	}
	ck := filepath.Join(root, "checkpoints", CheckpointFile)
	data, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(ck, data, 0o644); err != nil {
		t.Fatal(err)
	}
	setHyperparameters(t, root, map[string]string{"epochs": "3", "checkpoint_every": "1"})
	res := runTrain(t, context.Background(), root, nil)
	if res.err == nil {
		t.Fatal("resumed from a corrupt checkpoint")
	}
	failure, err := os.ReadFile(filepath.Join(root, "output", "failure"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(failure), "blueblood.ckpt: corrupt checkpoint: its SHA-256 does not match its contents") {
		t.Errorf("failure %q", failure)
	}
}
