package trainer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/model"
)

// CheckpointFile is the checkpoint's name inside the checkpoint folder. Jobs run on one
// host, so one fixed name is enough and lets a restarted spot job find it.
const CheckpointFile = "blueblood.ckpt"

func (r *run) checkpointPath() string { return filepath.Join(r.cfg.CheckpointDir, CheckpointFile) }

// loadCheckpoint returns the checkpoint to resume from, or nil when there is none. A
// checkpoint whose layout or network does not match this run fails the job rather than
// silently starting over.
func (r *run) loadCheckpoint(cfg model.Config) (*model.Checkpoint, error) {
	path := r.checkpointPath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		r.log.printf("no checkpoint at %s; starting from scratch", path)
		return nil, nil
	}
	ck, err := model.LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	err = checkpointMatches(ck, cfg, r.hp.Map())
	if err == nil && ck.Data != "" && ck.Data != r.fingerprint() {
		err = fmt.Errorf("the training data differ from the data it was written with (fingerprint %.12s, this run's %.12s)", ck.Data, r.fingerprint())
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s does not match this job: %v; delete it or restore the original data and hyperparameters", path, err)
	}
	r.log.printf("resuming from checkpoint %s (epoch %d, batch %d)", path, ck.Epoch, ck.Batch)
	// The checkpoint on disk is this position's exact one.
	r.savedCheckpoint, r.lastCheckpoint = true, [2]int{ck.Epoch, ck.Batch}
	return ck, nil
}

// fingerprint is dataFingerprint of this run's training and validation samples,
// computed once.
func (r *run) fingerprint() string {
	if r.dataSum == "" {
		r.dataSum = dataFingerprint(r.train, r.validation)
	}
	return r.dataSum
}

// saveCheckpoint starts writing ck in the background and returns the previous write's
// error: training goes on while it is written and synced, on the core a batch of up to 64
// samples leaves idle. One write at a time; checkpointWritten waits for the last one.
func (r *run) saveCheckpoint(ck *model.Checkpoint) error {
	path := r.checkpointPath()
	// A stop right after an epoch-boundary checkpoint produces a second one at the same
	// position, taken after the next epoch's shuffle already advanced the RNG without
	// saving the order; resuming from it would diverge from an uninterrupted run. The
	// first one is exact, so keep it.
	pos := [2]int{ck.Epoch, ck.Batch}
	if r.savedCheckpoint && r.lastCheckpoint == pos {
		r.log.printf("checkpoint at epoch %d batch %d already saved", ck.Epoch, ck.Batch)
		return nil
	}
	prev := r.checkpointWritten()
	ck.Data = r.fingerprint()
	r.savedCheckpoint, r.lastCheckpoint = true, pos
	done := make(chan error, 1)
	r.checkpointing = done
	write := writeCheckpoint // read on this goroutine, as the ridge's fit is
	go func() {
		var err error
		defer func() { done <- err }()
		defer model.Recover(&err) // a panic here would end the process past Train's guard
		err = write(path, ck)
	}()
	return prev
}

// checkpointWritten waits for the checkpoint being written, if any, and returns its error.
func (r *run) checkpointWritten() error {
	if r.checkpointing == nil {
		return nil
	}
	err := <-r.checkpointing
	r.checkpointing = nil
	return err
}

// writeCheckpoint is a variable so a test can make the writer goroutine panic.
var writeCheckpoint = func(path string, ck *model.Checkpoint) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// Save is atomic: a kill mid-write keeps the previous good checkpoint.
	if err := ck.Save(path); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// checkpointMatches explains why a checkpoint cannot continue this run, naming the
// first difference in feature layout or network shape.
func checkpointMatches(ck *model.Checkpoint, cfg model.Config, hp map[string]string) error {
	if err := sameLayout(ck.Config.Layout, cfg.Layout); err != nil {
		return fmt.Errorf("the data's feature layout differs from the checkpoint's: %v", err)
	}
	c := ck.Config
	switch {
	case c.Architecture != "" && c.Architecture != cfg.Architecture:
		return fmt.Errorf("architecture %s; the checkpoint has %s", cfg.Architecture, c.Architecture)
	case c.LSTMUnits != cfg.LSTMUnits:
		return fmt.Errorf("lstm_units=%d; the checkpoint has %d", cfg.LSTMUnits, c.LSTMUnits)
	case c.EncoderUnits != cfg.EncoderUnits:
		return fmt.Errorf("encoder_units=%d; the checkpoint has %d", cfg.EncoderUnits, c.EncoderUnits)
	case c.DropoutRate != cfg.DropoutRate:
		return fmt.Errorf("dropout_rate=%g; the checkpoint has %g", cfg.DropoutRate, c.DropoutRate)
	case !slices.Equal(c.Drugs, cfg.Drugs):
		return fmt.Errorf("the training data's %d learned drugs differ from the checkpoint's %d", len(cfg.Drugs), len(c.Drugs))
	}
	// Any setting that shapes the training trajectory must match, or the "resumed" model
	// would silently belong to another run. epochs may grow (train longer) and
	// checkpoint_every only decides when checkpoints are written.
	for _, name := range hparams.Names() {
		if name == "epochs" || name == "checkpoint_every" {
			continue
		}
		if was, ok := ck.Hyperparameters[name]; ok && was != hp[name] {
			return fmt.Errorf("%s=%s; the checkpoint was written with %s=%s", name, hp[name], name, was)
		}
	}
	return nil
}
