package trainer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// C3: hyperparameters within their ranges whose network cannot fit the instance
// fail at start with a failure file naming them, instead of an OOM kill mid-run.
func TestTrainRefusesNetworkLargerThanMemory(t *testing.T) {
	root := copyFixture(t, "basic")
	setHyperparameters(t, root, map[string]string{"epochs": "1", "encoder_units": "1024", "lstm_units": "256", "batch_size": "512"})
	started := time.Now()
	var log strings.Builder
	err := Train(context.Background(), Options{Root: root, Stderr: &log, MemoryBytes: 256 << 20})
	took := time.Since(started)
	if err == nil || ExitCode(err) != ExitFailure {
		t.Fatalf("err = %v", err)
	}
	data, _ := os.ReadFile(filepath.Join(root, "output", "failure"))
	for _, want := range []string{"encoder_units=1024, lstm_units=256, batch_size=512 need about", "more than this instance's 0.2 GiB"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("failure %q lacks %q", data, want)
		}
	}
	if strings.Contains(log.String(), "epoch 1/") {
		t.Error("an epoch ran before the check")
	}
	t.Logf("refused after %v", took)
	if !strings.Contains(log.String(), "memory: training needs about") {
		t.Errorf("no memory line in the log:\n%s", log.String())
	}
}
