package trainer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// stubRidge replaces the ridge fit for one test.
func stubRidge(t *testing.T, fit func(train []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout, seed int64) (*model.Ridge, error)) {
	t.Helper()
	was := fitRidge
	fitRidge = fit
	t.Cleanup(func() { fitRidge = was })
}

// stopHP is a small run of several epochs; the tests stop it after the first.
var stopHP = map[string]string{"epochs": "30", "lstm_units": "4", "encoder_units": "4", "batch_size": "8",
	"learning_rate": "0.01", "patience": "0", "validation_fraction": "0.25", "seed": "3"}

// TestTrainStopDuringRidge: SIGTERM while the ridge baseline is still fitting publishes
// the model at once; the outputs leave the late ridge out after the stop grace.
func TestTrainStopDuringRidge(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stubRidge(t, func([]pipeline.Sample, *pipeline.Scaler, pipeline.Layout, int64) (*model.Ridge, error) {
		select { // a fit far slower than the stop allows
		case <-release:
		case <-time.After(20 * time.Second):
		}
		return nil, errors.New("ridge stub released")
	})
	root := copyFixture(t, "basic")
	setHyperparameters(t, root, stopHP)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stoppedAt time.Time
	out := &lineHook{fn: func(line string) {
		if strings.HasPrefix(line, "epoch=1/") {
			stoppedAt = time.Now()
			cancel()
		}
	}}
	errBuf := &lineHook{}
	err := Train(ctx, Options{Root: root, Stdout: out, Stderr: errBuf, StopGrace: 300 * time.Millisecond})
	took := time.Since(stoppedAt)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("error %v, want ErrStopped\n%s", err, errBuf.buf.String())
	}
	if took > 10*time.Second {
		t.Errorf("Train returned %v after SIGTERM, want under 10 s", took)
	}
	if _, err := model.Load(filepath.Join(root, "model")); err != nil {
		t.Errorf("no model after SIGTERM: %v", err)
	}
	s := readSummary(t, root)
	if s.Status != StatusInterrupted || s.Evaluation["validation"] == nil {
		t.Errorf("metrics.json status %s, validation %v", s.Status, s.Evaluation["validation"])
	}
	if _, ok := s.Evaluation["validation"].Baselines[model.BaselineRidge]; ok {
		t.Error("metrics.json scores a ridge that never finished")
	}
	if !strings.Contains(errBuf.buf.String(), "ridge baseline left out: "+errRidgeLate.Error()) {
		t.Errorf("log does not say the ridge was left out:\n%s", errBuf.buf.String())
	}
	if _, err := os.Stat(filepath.Join(root, "output", "failure")); err == nil {
		t.Error("failure file written for a stop")
	}
}

// TestTrainRidgeFailureKeepsModel: an error or a panic in the ridge fit (its own
// goroutine) leaves the baseline out; the trained model is still published.
func TestTrainRidgeFailureKeepsModel(t *testing.T) {
	for name, fit := range map[string]func([]pipeline.Sample, *pipeline.Scaler, pipeline.Layout, int64) (*model.Ridge, error){
		"error": func([]pipeline.Sample, *pipeline.Scaler, pipeline.Layout, int64) (*model.Ridge, error) {
			return nil, errors.New("ridge: singular")
		},
		"panic": func([]pipeline.Sample, *pipeline.Scaler, pipeline.Layout, int64) (*model.Ridge, error) {
			panic("ridge stub panics")
		},
	} {
		t.Run(name, func(t *testing.T) {
			stubRidge(t, fit)
			root := copyFixture(t, "basic")
			res := runTrain(t, context.Background(), root, nil)
			if res.err != nil {
				t.Fatalf("error %v\n%s", res.err, res.stderr)
			}
			if _, err := model.Load(filepath.Join(root, "model")); err != nil {
				t.Errorf("no model: %v", err)
			}
			if !strings.Contains(res.stderr, "ridge baseline left out: ") {
				t.Errorf("log does not say the ridge was left out:\n%s", res.stderr)
			}
			if name == "panic" && !strings.Contains(res.stderr, "goroutine") {
				t.Errorf("log lacks the panic's stack:\n%s", res.stderr)
			}
		})
	}
}

// TestTrainFailureAfterStop: an error while saving after SIGTERM is a failure with its
// real cause in output/failure, not "stopped before training started".
func TestTrainFailureAfterStop(t *testing.T) {
	root := copyFixture(t, "basic")
	setHyperparameters(t, root, stopHP)
	data := filepath.Join(root, "output", "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := runTrain(t, ctx, root, func(line string) {
		if strings.HasPrefix(line, "epoch=1/") {
			// the outputs cannot be written: output/data is now a file
			os.RemoveAll(data)
			os.WriteFile(data, []byte("in the way\n"), 0o644)
			cancel()
		}
	})
	if res.err == nil || errors.Is(res.err, ErrStopped) || ExitCode(res.err) != ExitFailure {
		t.Fatalf("error %v (exit %d), want a failure (exit %d)", res.err, ExitCode(res.err), ExitFailure)
	}
	reason, err := os.ReadFile(filepath.Join(root, "output", "failure"))
	if err != nil {
		t.Fatalf("no failure file: %v", err)
	}
	if !strings.Contains(string(reason), "not a directory") || strings.Contains(string(reason), "before training started") {
		t.Errorf("failure %q, want the real cause", reason)
	}
}

// TestTrainCheckpointWriterPanic: a panic on the checkpoint writer's goroutine ends the
// run with a failure file (the stack goes to the log), not a crash.
func TestTrainCheckpointWriterPanic(t *testing.T) {
	was := writeCheckpoint
	writeCheckpoint = func(string, *model.Checkpoint) error { panic("checkpoint stub panics") }
	t.Cleanup(func() { writeCheckpoint = was })
	root := copyFixture(t, "basic")
	res := runTrain(t, context.Background(), root, nil)
	if res.err == nil || ExitCode(res.err) != ExitFailure {
		t.Fatalf("error %v, want a failure", res.err)
	}
	reason, _ := os.ReadFile(filepath.Join(root, "output", "failure"))
	if !strings.Contains(string(reason), "internal error: checkpoint stub panics") {
		t.Errorf("failure %q", reason)
	}
	if !strings.Contains(res.stderr, "goroutine") {
		t.Errorf("log lacks the stack:\n%s", res.stderr)
	}
}
