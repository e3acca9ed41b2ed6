package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/blueblood/blueblood/pipeline"
)

// errNonFiniteGrad reports a gradient that overflowed although the loss did not.
var errNonFiniteGrad = errors.New("gradient is not finite; try a lower learning_rate or set clip_norm; the best weights so far are kept")

// ErrInterrupted is wrapped by Train's error when its context was cancelled.
var ErrInterrupted = errors.New("training interrupted")

// TrainOptions are the optimisation settings of one Train call.
type TrainOptions struct {
	Epochs          int
	BatchSize       int
	Patience        int // epochs without validation improvement before stopping; 0 = never
	CheckpointEvery int // call OnCheckpoint every this many epochs; 0 = only on cancel
	LearningRate    float64
	ClipNorm        float64 // global gradient L2 norm limit; 0 = none
	WeightDecay     float64 // L2 decay on weight matrices (not biases), added to the gradient; 0 = none
	Seed            int64   // shuffling and dropout

	OnEpoch      func(EpochStats)        // after each epoch
	OnCheckpoint func(*Checkpoint) error // every CheckpointEvery epochs and on cancel
	Resume       *Checkpoint             // continue a run from this checkpoint

	afterBatch  func(epoch, batch int) // tests: called after each optimiser step (1-based)
	beforeShard func(k int)            // tests: called as each shard of a batch starts
}

// EpochStats summarises one epoch. Losses are masked MSE in scaled units; the training
// loss is measured with dropout on, the validation figures with dropout off.
type EpochStats struct {
	Epoch     int           `json:"epoch"` // 1-based
	TrainLoss float64       `json:"train_loss"`
	ValLoss   float64       `json:"val_loss"`
	ValRMSE   float64       `json:"val_rmse"`
	ValMAE    float64       `json:"val_mae"`
	Best      bool          `json:"best"`
	Duration  time.Duration `json:"duration"`
}

// History is the record of a Train call (including epochs before a resume).
type History struct {
	// Initial holds the validation figures of the untrained weights (Epoch 0), which
	// early stopping weighs like any epoch's.
	Initial EpochStats   `json:"initial"`
	Epochs  []EpochStats `json:"epochs"`
	// Shrink holds, per analyte, the factor its learned change was scaled by after
	// training (see shrinkToBaseline), 0 where the analyte predicts the baseline (post =
	// pre); nil when the untrained weights won or nothing ran.
	Shrink    []float64 `json:"shrink,omitempty"`
	BestEpoch int       `json:"best_epoch"` // 1-based; 0 when no epoch beat the untrained weights
	// LinearPenalty is the ridge penalty of the linear base (Config.LinearBase), chosen
	// over inner folds of the training samples; 0 without one or on resume.
	LinearPenalty float64 `json:"linear_penalty,omitempty"`
	// LinearKept holds, per analyte, whether the linear base stayed (keepLinearBase).
	LinearKept []bool `json:"linear_kept,omitempty"`
	Stopped    string `json:"stopped"` // "completed", "early-stopped", "interrupted" or "failed"
}

// Stop reasons in History.Stopped.
const (
	StopCompleted    = "completed"
	StopEarly        = "early-stopped"
	StopInterrupted  = "interrupted"
	StopFailed       = "failed"
	maxTrainEpochs   = 1000000
	maxTrainBatch    = 1 << 16
	trainStreamMagic = 0x747261696e696e67 // "training": the RNG stream for shuffling and dropout
)

func (o TrainOptions) validate(nTrain int) error {
	switch {
	case o.Epochs < 1 || o.Epochs > maxTrainEpochs:
		return fmt.Errorf("model: epochs=%d: expected an integer in [1, %d]", o.Epochs, maxTrainEpochs)
	case o.BatchSize < 1 || o.BatchSize > maxTrainBatch:
		return fmt.Errorf("model: batch_size=%d: expected an integer in [1, %d]", o.BatchSize, maxTrainBatch)
	case o.Patience < 0:
		return fmt.Errorf("model: patience=%d: expected 0 or more", o.Patience)
	case o.CheckpointEvery < 0:
		return fmt.Errorf("model: checkpoint_every=%d: expected 0 or more", o.CheckpointEvery)
	case math.IsNaN(o.LearningRate) || o.LearningRate <= 0 || o.LearningRate > 1:
		return fmt.Errorf("model: learning_rate=%v: expected a number in (0, 1]", o.LearningRate)
	case math.IsNaN(o.ClipNorm) || math.IsInf(o.ClipNorm, 0) || o.ClipNorm < 0:
		return fmt.Errorf("model: clip_norm=%v: expected a finite number >= 0", o.ClipNorm)
	case math.IsNaN(o.WeightDecay) || o.WeightDecay < 0 || o.WeightDecay > 1:
		return fmt.Errorf("model: weight_decay=%v: expected a number in [0, 1]", o.WeightDecay)
	case nTrain == 0:
		return errors.New("model: no training samples")
	}
	return nil
}

// trainState is everything a checkpoint must hold for a resumed run to be identical to
// an uninterrupted one.
type trainState struct {
	opt       *adam
	rng       *rand.PCG
	epoch     int   // completed epochs
	batch     int   // next batch of the current epoch (0 = at an epoch boundary)
	perm      []int // the current epoch's order; nil until drawn (then saved in checkpoints)
	lossSum   float64
	lossCount int64
	best      []float32
	bestLoss  float64
	bestEpoch int
	sinceBest int
	hist      History
}

// Train fits the model. On return the model holds the best weights seen (by validation
// loss). A cancelled ctx stops at the next batch boundary, hands a checkpoint to
// OnCheckpoint and returns an error wrapping ErrInterrupted together with the history.
func (m *Model) Train(ctx context.Context, train, val []pipeline.Sample, opt TrainOptions) (*History, error) {
	if err := opt.validate(len(train)); err != nil {
		return nil, err
	}
	if len(val) == 0 {
		return nil, errors.New("model: no validation samples: early stopping and best-weight selection need a validation split")
	}
	// The training split is checked here and scaled again batch by batch as it runs (into
	// the batch's reused slots), never held scaled whole: at a million samples that copy
	// would outweigh everything else. The validation split, scored every epoch, is kept.
	trainObserved, err := m.checkScaling(train)
	if err != nil {
		return nil, fmt.Errorf("training split: %w", err)
	}
	vs, err := m.scaleAll(val, true)
	if err != nil {
		return nil, fmt.Errorf("validation split: %w", err)
	}
	for _, split := range []struct {
		name     string
		observed int
	}{{"training", trainObserved}, {"validation", observedCount(vs)}} {
		if split.observed == 0 {
			return nil, fmt.Errorf("model: the %s split has no observed post values to learn from", split.name)
		}
	}

	st := &trainState{opt: newAdam(len(m.params), opt.LearningRate),
		rng: rand.NewPCG(uint64(opt.Seed), trainStreamMagic), bestLoss: math.Inf(1)}
	if opt.Resume != nil {
		if err := opt.Resume.validateFor(len(train)); err != nil {
			return nil, err
		}
		if err := m.restore(opt.Resume, opt, st); err != nil {
			return nil, err
		}
	}
	m.recordOptions(opt)

	sharded := newShardedStep(m, opt.BatchSize)
	sharded.beforeShard = opt.beforeShard
	defer sharded.close()
	grads := make([]float32, len(m.params))
	u := m.cfg.LSTMUnits
	drop := make([]float32, opt.BatchSize*u)
	batch := make([]*scaled, 0, opt.BatchSize)
	slots := make([]scaled, opt.BatchSize) // the batch's samples, scaled as it is drawn
	nb := (len(train) + opt.BatchSize - 1) / opt.BatchSize
	rr := rand.New(st.rng)

	finish := func(reason string) {
		st.hist.Stopped = reason
		if st.best != nil {
			copy(m.params, st.best)
		}
		st.hist.BestEpoch = st.bestEpoch
		if (reason == StopEarly || reason == StopCompleted) && st.bestEpoch > 0 {
			// a shrink failure leaves the best weights as they are: Predict reports it
			st.hist.Shrink, _ = m.shrinkToBaseline(vs, val)
		}
	}

	if opt.Resume == nil {
		// the linear base is fitted once, before any epoch; a resumed run restores it
		if st.hist.LinearPenalty, err = m.fitLinearBase(ctx, train, opt.Seed); err != nil {
			return nil, err
		}
		st.hist.LinearKept = m.keepLinearBase(vs, val)
		// epoch 0: the untrained weights (the baseline, see initParams) compete too
		vl, vrmse, vmae, err := m.scaledLoss(vs)
		if err != nil {
			return nil, err
		}
		st.hist.Initial = EpochStats{ValLoss: vl, ValRMSE: vrmse, ValMAE: vmae}
		if vl < st.bestLoss {
			st.hist.Initial.Best = true
			st.bestLoss = vl
			st.best = slices.Clone(m.params)
		}
	}
	// Patience that ran out on the last epoch is no early stop: every epoch ran.
	if opt.Patience > 0 && st.epoch > 0 && st.epoch < opt.Epochs && st.sinceBest >= opt.Patience {
		finish(StopEarly) // resumed from a run that had already stopped early
		return &st.hist, nil
	}
	for st.epoch < opt.Epochs {
		started := time.Now()
		if st.perm == nil {
			// drawn once per epoch; a checkpoint taken after this point carries it, since
			// the RNG has moved past it
			st.perm = rr.Perm(len(train))
			st.lossSum, st.lossCount = 0, 0
		}
		for ; st.batch < nb; st.batch++ {
			if ctx.Err() != nil {
				return m.interrupt(st, opt, finish)
			}
			batch = batch[:0]
			for k, idx := range st.perm[st.batch*opt.BatchSize : min((st.batch+1)*opt.BatchSize, len(train))] {
				if err := m.scaleInto(&slots[k], idx, &train[idx], true); err != nil {
					finish(StopFailed) // checkScaling passed it: only a sample changed since
					return &st.hist, fmt.Errorf("training split: %w", err)
				}
				batch = append(batch, &slots[k])
			}
			rngAt := *st.rng // PCG is its state: a copy, not an encoding, on this hot path
			m.dropoutMask(rr, drop)
			loss, count, err := sharded.step(ctx, batch, drop, grads, st.opt, opt.ClipNorm, opt.WeightDecay)
			if errors.Is(err, errStoppedMidBatch) {
				*st.rng = rngAt // the batch redraws its mask on resume
				return m.interrupt(st, opt, finish)
			}
			if err != nil {
				finish(StopFailed)
				return &st.hist, fmt.Errorf("model: epoch %d batch %d (of %d): %w", st.epoch+1, st.batch+1, nb, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				finish(StopFailed)
				return &st.hist, fmt.Errorf("model: loss is %v at epoch %d batch %d (of %d); try a lower learning_rate or set clip_norm; the best weights so far are kept", loss, st.epoch+1, st.batch+1, nb)
			}
			if count == 0 {
				continue
			}
			st.lossSum += loss * float64(count)
			st.lossCount += int64(count)
			if opt.afterBatch != nil {
				opt.afterBatch(st.epoch+1, st.batch+1)
			}
		}
		st.batch = 0
		st.perm = nil
		st.epoch++

		vl, vrmse, vmae, err := m.scaledLoss(vs)
		if err != nil {
			finish(StopFailed)
			return &st.hist, err
		}
		es := EpochStats{Epoch: st.epoch, TrainLoss: st.lossSum / float64(max(st.lossCount, 1)),
			ValLoss: vl, ValRMSE: vrmse, ValMAE: vmae, Duration: time.Since(started)}
		if vl < st.bestLoss { // NaN never counts as an improvement
			es.Best = true
			st.bestLoss, st.bestEpoch, st.sinceBest = vl, st.epoch, 0
			if st.best == nil {
				st.best = make([]float32, len(m.params))
			}
			copy(st.best, m.params)
		} else {
			st.sinceBest++
		}
		st.hist.Epochs = append(st.hist.Epochs, es)
		st.hist.BestEpoch = st.bestEpoch
		if opt.OnEpoch != nil {
			opt.OnEpoch(es)
		}
		if opt.CheckpointEvery > 0 && st.epoch%opt.CheckpointEvery == 0 && opt.OnCheckpoint != nil {
			if err := opt.OnCheckpoint(m.checkpoint(st, opt)); err != nil {
				finish(StopFailed)
				return &st.hist, fmt.Errorf("model: checkpoint after epoch %d: %w", st.epoch, err)
			}
		}
		if opt.Patience > 0 && st.sinceBest >= opt.Patience && st.epoch < opt.Epochs {
			finish(StopEarly)
			return &st.hist, nil
		}
	}
	finish(StopCompleted)
	return &st.hist, nil
}

// addWeightDecay adds d·w to g[lo:hi] for every weight matrix in specs; biases (and
// the forget-gate bias of 1) are not decayed. Float32, in a fixed order, so deterministic.
func addWeightDecay(specs []paramSpec, p, g []float32, d float32, lo, hi int) {
	for _, s := range specs {
		from, to := max(lo, s.Off), min(hi, s.Off+s.size())
		if s.bias || s.frozen || from >= to {
			continue
		}
		ps, gs := p[from:to], g[from:to]
		for i := range gs {
			gs[i] += d * ps[i]
		}
	}
}

func (m *Model) interrupt(st *trainState, opt TrainOptions, finish func(string)) (*History, error) {
	var cpErr error
	if opt.OnCheckpoint != nil {
		cpErr = opt.OnCheckpoint(m.checkpoint(st, opt))
	}
	finish(StopInterrupted)
	if cpErr != nil {
		return &st.hist, fmt.Errorf("model: %w at epoch %d batch %d; saving the checkpoint failed: %v", ErrInterrupted, st.epoch+1, st.batch+1, cpErr)
	}
	return &st.hist, fmt.Errorf("model: %w at epoch %d batch %d", ErrInterrupted, st.epoch+1, st.batch+1)
}

// dropoutMask draws an inverted-dropout mask: 0 with probability p, else 1/(1-p).
func (m *Model) dropoutMask(r *rand.Rand, drop []float32) {
	p := m.cfg.DropoutRate
	if p == 0 {
		for i := range drop {
			drop[i] = 1
		}
		return
	}
	keep := float32(1 / (1 - p))
	for i := range drop {
		if r.Float64() < p {
			drop[i] = 0
		} else {
			drop[i] = keep
		}
	}
}

func (m *Model) recordOptions(opt TrainOptions) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for k, v := range map[string]string{
		"architecture": m.cfg.Architecture, "lstm_units": strconv.Itoa(m.cfg.LSTMUnits),
		"encoder_units": strconv.Itoa(m.cfg.EncoderUnits), "dropout_rate": f(m.cfg.DropoutRate),
		"epochs": strconv.Itoa(opt.Epochs), "batch_size": strconv.Itoa(opt.BatchSize),
		"patience": strconv.Itoa(opt.Patience), "learning_rate": f(opt.LearningRate),
		"clip_norm": f(opt.ClipNorm), "weight_decay": f(opt.WeightDecay), "seed": strconv.FormatInt(opt.Seed, 10),
	} {
		if _, set := m.hparams[k]; !set {
			m.hparams[k] = v
		}
	}
}

// checkScaling scales every sample once, keeping none, and returns the observed targets:
// the training split's bad samples are reported before the first batch.
func (m *Model) checkScaling(samples []pipeline.Sample) (int, error) {
	var s scaled
	n := 0
	for i := range samples {
		if err := m.scaleInto(&s, i, &samples[i], true); err != nil {
			return 0, err
		}
		n += observedCount([]*scaled{&s})
	}
	return n, nil
}

func observedCount(ss []*scaled) int {
	n := 0
	for _, s := range ss {
		for _, v := range s.postMask {
			if v != 0 {
				n++
			}
		}
	}
	return n
}

// scaledLoss evaluates masked MSE, RMSE and MAE in scaled units with dropout off.
func (m *Model) scaledLoss(ss []*scaled) (mse, rmse, mae float64, err error) {
	a := len(m.cfg.Layout.Analytes)
	pred := make([]float32, len(ss)*a)
	if err := m.predictScaled(ss, pred); err != nil {
		return 0, 0, 0, err
	}
	var se, ae float64
	n := 0
	for i, s := range ss {
		for j := 0; j < a; j++ {
			if s.postMask[j] == 0 || !scorable(m.sc, j) {
				continue // an analyte without training values has no standard unit
			}
			d := float64(pred[i*a+j]) - float64(s.post[j])
			se += d * d
			ae += math.Abs(d)
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN(), nil
	}
	mse = se / float64(n)
	return mse, math.Sqrt(mse), ae / float64(n), nil
}
