package trainer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/container/serve/inputheader"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// Train runs one training job against the tree at opts.Root. On failure it writes
// output/failure (one line, at most 1024 bytes) and leaves model/ without a partial
// model. On cancellation it returns an error wrapping ErrStopped after writing a
// checkpoint, the best model so far and the outputs.
func Train(ctx context.Context, opts Options) (err error) {
	opts = opts.withDefaults()
	p := optml.Paths{Root: opts.Root}
	log := &logger{w: opts.Stderr, now: opts.Now, start: opts.Start}
	// A failure file from an earlier local run would be mistaken for this run's.
	os.Remove(p.Failure())
	// Space for the failure file is taken now, before any output can fill the volume.
	slot, rerr := reserveFailure(p.Failure())
	if rerr != nil {
		log.printf("cannot reserve space for the failure file: %v", rerr)
	}
	defer func() {
		if err == nil || errors.Is(err, ErrStopped) {
			slot.release()
			return
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// SIGTERM before training started (e.g. while reading data): the job is
			// Stopped, not Failed, and there is nothing to save. Any other error after
			// SIGTERM (a full disk while saving) is a failure with its own reason.
			slot.release()
			err = fmt.Errorf("%w before training started: %v", ErrStopped, err)
			return
		}
		var pe *model.PanicError
		if errors.As(err, &pe) {
			log.printf("panic: %v\n%s", pe.Value, pe.Stack)
		}
		if werr := slot.write(err); werr != nil {
			log.printf("cannot write failure file: %v", werr)
		}
	}()
	r := &run{opts: opts, p: p, log: log}
	return guard(func() error { return r.execute(ctx) })
}

// guard runs fn and turns a panic into an error (a *model.PanicError, as panics on the
// run's other goroutines become). Train logs the stack for debugging; it never goes into
// the failure file.
func guard(fn func() error) (err error) {
	defer model.Recover(&err)
	return fn()
}

type run struct {
	opts Options
	p    optml.Paths
	log  *logger
	cfg  *Config
	hp   Hyperparameters

	layout     pipeline.Layout
	train      []pipeline.Sample
	validation []pipeline.Sample
	test       []pipeline.Sample
	summary    Summary
	readReport string
	header     []string // the train tables' shared header line, stored beside the model

	history    []EpochRecord
	firstEpoch bool

	savedCheckpoint bool
	lastCheckpoint  [2]int     // epoch and batch of the last checkpoint this run saved
	checkpointing   chan error // the checkpoint being written in the background; nil when none
	dataSum         string     // see fingerprint
}

func (r *run) execute(ctx context.Context) error {
	r.log.printf("blueblood trainer starting; root %s", r.p.Root)
	gc, restoreGC := r.tuneGC()
	defer restoreGC()
	if err := r.readInputs(ctx); err != nil {
		return err
	}
	m, mcfg, err := r.newModel()
	if err != nil {
		return err
	}
	if err := r.checkMemory(mcfg); err != nil {
		return err
	}
	r.logLive(gc)
	resume, err := r.loadCheckpoint(mcfg)
	if err != nil {
		return err
	}
	ridge := startRidge(r.train, m.Scaler(), r.layout, r.hp.Seed)
	trainStart := r.opts.Now()
	hist, stopped, err := r.fit(ctx, m, resume)
	if err != nil {
		return err
	}
	// From here on nothing looks at ctx: after SIGTERM the outputs must still be saved.
	r.summary.TrainingSeconds = r.opts.Now().Sub(trainStart).Seconds()
	r.finishSummary(hist, resume, stopped)
	if r.summary.BestEpoch == 0 && (r.summary.EpochsRun == 0 || !r.summary.keptUntrained()) {
		if stopped {
			// Stopped before any epoch finished: the weights are untrained, so there is
			// no model worth publishing; the checkpoint lets the next start resume.
			return fmt.Errorf("%w before the first epoch finished; checkpoint in %s", ErrStopped, r.cfg.CheckpointDir)
		}
		return errors.New("training: no epoch produced a finite validation loss; try a lower learning_rate or set clip_norm")
	}

	if stopped {
		// SageMaker kills the container 120 s after SIGTERM: the model goes first (its
		// training.json has the validation metrics; test metrics need the evaluation), then
		// the outputs, whose baseline and evaluations are best effort until the deadline.
		deadline := r.opts.Now().Add(r.opts.StopGrace)
		r.summary.Final = map[string]float64{}
		for _, v := range r.finalValues() {
			r.summary.Final[v.Name] = v.Value
		}
		if err := r.publishModel(m); err != nil {
			return err
		}
		if err := r.writeOutputs(m, ridge, deadline); err != nil {
			return err
		}
	} else {
		if err := r.writeOutputs(m, ridge, time.Time{}); err != nil {
			return err
		}
		if err := r.publishModel(m); err != nil {
			return err
		}
	}
	// Repeat the best epoch's metrics last: SageMaker keeps the last value of each
	// metric as FinalMetricDataList, which is what a tuning job ranks.
	fmt.Fprintln(r.opts.Stdout, metricdef.FormatBest(r.summary.BestEpoch, r.hp.Epochs, r.finalValues()))
	if stopped {
		return fmt.Errorf("%w after epoch %d; checkpoint in %s", ErrStopped, r.summary.EpochsRun, r.cfg.CheckpointDir)
	}
	r.log.printf("done: %s after %d epochs, best epoch %d", r.summary.Status, r.summary.EpochsRun, r.summary.BestEpoch)
	return nil
}

// readInputs reads input/config and every channel's data.
func (r *run) readInputs(ctx context.Context) error {
	cfg, err := loadConfig(r.p)
	if err != nil {
		return err
	}
	r.cfg, r.hp = cfg, cfg.Hyperparameters
	r.logConfig()
	if cfg.Resource != nil && len(cfg.Resource.Hosts) > 1 {
		return fmt.Errorf("%s: %d hosts (%s); the trainer runs on a single instance, set InstanceCount to 1",
			r.p.Rel(r.p.ResourceConfig()), len(cfg.Resource.Hosts), strings.Join(cfg.Resource.Hosts, ", "))
	}

	channels, err := discoverChannels(ctx, r.p, cfg, pipeline.IsPrepared)
	if err != nil {
		return err
	}
	return r.loadData(ctx, channels)
}

// newModel fits the scaler on the training split and builds the untrained network.
func (r *run) newModel() (*model.Model, model.Config, error) {
	mcfg := r.hp.Config
	mcfg.Layout = r.layout
	scaler, err := model.FitScaler(mcfg, r.train)
	if err != nil {
		return nil, model.Config{}, fmt.Errorf("channel train: %w", err)
	}
	r.summary.Data.Thin, r.summary.Data.ThinRule = scaler.Thin, pipeline.ThinRule
	mcfg = model.DrugVocabulary(mcfg, r.train)
	m, err := model.New(mcfg, scaler, r.hp.Seed)
	if err != nil {
		return nil, mcfg, err
	}
	m.SetHyperparameters(r.hp.Map())
	r.log.printf("model: %s, %d parameters", r.hp.Architecture, m.NumParams())
	return m, mcfg, nil
}

// fit trains m, resuming from resume when it is not nil. stopped reports a SIGTERM, after
// which the best weights so far are still to be saved.
func (r *run) fit(ctx context.Context, m *model.Model, resume *model.Checkpoint) (hist *model.History, stopped bool, err error) {
	r.firstEpoch = true
	topts := r.hp.TrainOptions
	topts.OnEpoch, topts.OnCheckpoint, topts.Resume = r.onEpoch, r.saveCheckpoint, resume
	hist, trainErr := m.Train(ctx, r.train, r.validation, topts)
	ckErr := r.checkpointWritten()
	switch {
	case trainErr == nil && ckErr != nil:
		return nil, false, fmt.Errorf("training: %w", ckErr)
	case trainErr == nil:
	case errors.Is(trainErr, model.ErrInterrupted):
		stopped = true
		if ckErr != nil {
			trainErr = fmt.Errorf("%w; saving the checkpoint failed: %v", trainErr, ckErr)
		}
		r.log.printf("SIGTERM: training stopped at a safe point (%v); writing the best model so far", trainErr)
	default:
		return nil, false, fmt.Errorf("training: %w", trainErr)
	}
	return hist, stopped, nil
}

// publishModel writes the model, training.json and the input header into model/ as one
// step: a reader sees all of them or none.
func (r *run) publishModel(m *model.Model) error {
	if err := publishDir(r.p.ModelDir(), func(dir string) error {
		if err := m.Save(dir); err != nil {
			return err
		}
		if err := writeTrainingInfo(filepath.Join(dir, TrainingInfoFile), &r.summary); err != nil {
			return err
		}
		// serving reads CSV rows sent without a header line in the training table's order
		_, err := inputheader.Write(dir, r.header)
		return err
	}); err != nil {
		return fmt.Errorf("write model to %s: %w", r.p.Rel(r.p.ModelDir()), err)
	}
	r.log.printf("model written to %s", r.p.ModelDir())
	return nil
}

func (r *run) logConfig() {
	r.log.json("hyperparameters", r.hp.Map())
	if r.cfg.Channels != nil {
		r.log.json("inputdataconfig", r.cfg.Channels)
	} else {
		r.log.printf("inputdataconfig: %s absent; using the folders under %s", r.p.Rel(r.p.InputDataConfig()), r.p.Rel(r.p.DataDir()))
	}
	if r.cfg.Resource != nil {
		r.log.json("resourceconfig", r.cfg.Resource)
	} else {
		r.log.printf("resourceconfig: %s absent; assuming one host", r.p.Rel(r.p.ResourceConfig()))
	}
	r.log.printf("checkpoints: %s", r.cfg.CheckpointDir)
}
