package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// CheckpointFile is the checkpoint's name inside the checkpoint folder. Jobs run on one
// host, so one fixed name is enough and lets a restarted spot job find it.
const CheckpointFile = "blueblood.ckpt"

// TrainingInfoFile is written into model/ next to the model's own files: the complete,
// validated hyperparameters and how the run ended, for people and the launcher.
const TrainingInfoFile = "training.json"

// Train runs one training job against the tree at opts.Root. On failure it writes
// output/failure (one line, at most 1024 bytes) and leaves model/ without a partial
// model. On cancellation it returns an error wrapping ErrStopped after writing a
// checkpoint, the best model so far and the outputs.
func Train(ctx context.Context, opts Options) (err error) {
	opts = opts.withDefaults()
	p := Paths{Root: opts.Root}
	log := &logger{w: opts.Stderr, now: opts.Now, start: opts.Start}
	// A failure file from an earlier local run would be mistaken for this run's.
	os.Remove(p.Failure())
	defer func() {
		if err == nil || errors.Is(err, ErrStopped) {
			return
		}
		if ctx.Err() != nil {
			// SIGTERM before training started (e.g. while reading data): the job is
			// Stopped, not Failed, and there is nothing to save.
			err = fmt.Errorf("%w before training started: %v", ErrStopped, err)
			return
		}
		if werr := WriteFailure(p.Failure(), err); werr != nil {
			log.printf("cannot write failure file: %v", werr)
		}
	}()
	r := &run{opts: opts, p: p, log: log}
	return guard(log, func() error { return r.execute(ctx) })
}

// guard runs fn and turns a panic into an error. The stack goes to the log for
// debugging, never into the failure file.
func guard(log *logger, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.printf("panic: %v\n%s", r, debug.Stack())
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return fn()
}

type run struct {
	opts Options
	p    Paths
	log  *logger
	cfg  *Config
	hp   hparams.Values

	layout     pipeline.Layout
	train      []pipeline.Sample
	validation []pipeline.Sample
	test       []pipeline.Sample
	summary    Summary
	readReport string

	history    []EpochRecord
	firstEpoch bool

	savedCheckpoint bool
	lastCheckpoint  [2]int // epoch and batch of the last checkpoint this run saved
}

func (r *run) execute(ctx context.Context) error {
	r.log.printf("blueblood trainer starting; root %s", r.p.Root)
	cfg, err := LoadConfig(r.p)
	if err != nil {
		return err
	}
	r.cfg, r.hp = cfg, cfg.Hyperparameters
	r.logConfig()
	if cfg.Resource != nil && len(cfg.Resource.Hosts) > 1 {
		return fmt.Errorf("%s: %d hosts (%s); the trainer runs on a single instance, set InstanceCount to 1",
			r.p.Rel(r.p.ResourceConfig()), len(cfg.Resource.Hosts), strings.Join(cfg.Resource.Hosts, ", "))
	}

	channels, err := DiscoverChannels(ctx, r.p, cfg, pipeline.IsPrepared)
	if err != nil {
		return err
	}
	if err := r.loadData(ctx, channels); err != nil {
		return err
	}

	scaler, err := pipeline.FitScaler(r.train, r.layout)
	if err != nil {
		return fmt.Errorf("channel train: %w", err)
	}
	mcfg := model.Config{
		Architecture: r.hp.Architecture,
		LSTMUnits:    r.hp.LSTMUnits,
		EncoderUnits: r.hp.EncoderUnits,
		DropoutRate:  r.hp.DropoutRate,
		Layout:       r.layout,
	}
	m, err := model.New(mcfg, scaler, r.hp.Seed)
	if err != nil {
		return err
	}
	m.SetHyperparameters(r.hp.Map())
	r.log.printf("model: %s, %d parameters", r.hp.Architecture, m.NumParams())
	resume, err := r.loadCheckpoint(mcfg)
	if err != nil {
		return err
	}

	trainStart := r.opts.Now()
	r.firstEpoch = true
	hist, trainErr := m.Train(ctx, r.train, r.validation, model.TrainOptions{
		Epochs:          r.hp.Epochs,
		BatchSize:       r.hp.BatchSize,
		Patience:        r.hp.Patience,
		CheckpointEvery: r.hp.CheckpointEvery,
		LearningRate:    r.hp.LearningRate,
		ClipNorm:        r.hp.ClipNorm,
		WeightDecay:     r.hp.WeightDecay,
		Seed:            r.hp.Seed,
		OnEpoch:         r.onEpoch,
		OnCheckpoint:    r.saveCheckpoint,
		Resume:          resume,
	})
	stopped := false
	switch {
	case trainErr == nil:
	case errors.Is(trainErr, model.ErrInterrupted):
		stopped = true
		r.log.printf("SIGTERM: training stopped at a safe point (%v); writing the best model so far", trainErr)
	default:
		return fmt.Errorf("training: %w", trainErr)
	}
	// From here on nothing looks at ctx: after SIGTERM the outputs must still be saved.
	r.summary.TrainingSeconds = r.opts.Now().Sub(trainStart).Seconds()
	r.finishSummary(hist, resume, stopped)
	if r.summary.BestEpoch == 0 {
		if stopped {
			// Stopped before any epoch finished: the weights are untrained, so there is
			// no model worth publishing; the checkpoint lets the next start resume.
			return fmt.Errorf("%w before the first epoch finished; checkpoint in %s", ErrStopped, r.cfg.CheckpointDir)
		}
		return errors.New("training: no epoch produced a finite validation loss; try a lower learning_rate or set clip_norm")
	}

	if err := r.writeOutputs(m); err != nil {
		return err
	}
	if err := PublishDir(r.p.ModelDir(), func(dir string) error {
		if err := m.Save(dir); err != nil {
			return err
		}
		return writeTrainingInfo(filepath.Join(dir, TrainingInfoFile), &r.summary)
	}); err != nil {
		return fmt.Errorf("write model to %s: %w", r.p.Rel(r.p.ModelDir()), err)
	}
	r.log.printf("model written to %s", r.p.ModelDir())

	// Repeat the best epoch's metrics last: SageMaker keeps the last value of each
	// metric as FinalMetricDataList, which is what a tuning job ranks.
	fmt.Fprintln(r.opts.Stdout, metricdef.FormatBest(r.summary.BestEpoch, r.hp.Epochs, r.finalValues()))
	if stopped {
		return fmt.Errorf("%w after epoch %d; checkpoint in %s", ErrStopped, r.summary.EpochsRun, r.cfg.CheckpointDir)
	}
	r.log.printf("done: %s after %d epochs, best epoch %d", r.summary.Status, r.summary.EpochsRun, r.summary.BestEpoch)
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

// loadData reads every channel, checks their layouts agree, limits prescription rows and
// splits train by subject where a validation or test channel is missing.
func (r *run) loadData(ctx context.Context, channels map[string]*Channel) error {
	ropts := pipeline.ReadOptions{MaxGapDays: r.hp.MaxGapDays}
	r.summary.Data.Channels = map[string]ChannelSummary{}
	sets := map[string][]pipeline.Sample{}
	for _, name := range knownChannels {
		ch := channels[name]
		if ch == nil {
			continue
		}
		for _, ig := range ch.Ignored {
			r.log.printf("channel %s: ignoring %s (not .csv or .csv.gz)", name, ig)
		}
		var ds *pipeline.Dataset
		var err error
		cs := ChannelSummary{Prepared: ch.Prepared}
		if ch.Prepared {
			r.log.printf("channel %s: reading prepared dataset %s", name, r.p.Rel(ch.Dir))
			// The prepared scaler is ignored: scalers are fitted on the training split.
			ds, _, err = pipeline.ReadPrepared(ctx, ch.Dir, ropts)
		} else {
			r.log.printf("channel %s: reading %d table file(s)", name, len(ch.Files))
			var rep *pipeline.Report
			ds, rep, err = pipeline.ReadTables(ctx, ch.Files, ropts)
			if err == nil && rep != nil {
				var buf bytes.Buffer
				if rep.WriteText(&buf) == nil {
					r.log.printf("channel %s read report:\n%s", name, strings.TrimRight(buf.String(), "\n"))
					if name == ChannelTrain {
						r.readReport = buf.String()
					}
				}
			}
			for _, f := range ch.Files {
				rel, _ := filepath.Rel(ch.Dir, f)
				cs.Files = append(cs.Files, filepath.ToSlash(rel))
			}
		}
		if err != nil {
			return fmt.Errorf("channel %s: %w", name, err)
		}
		if len(ds.Samples) == 0 {
			return fmt.Errorf("channel %s: no samples in %s; expected rows with pre_ and post_ values", name, r.p.Rel(ch.Dir))
		}
		if name == ChannelTrain {
			r.layout = ds.Layout
		} else if err := sameLayout(r.layout, ds.Layout); err != nil {
			return fmt.Errorf("channel %s: feature layout differs from channel train: %v", name, err)
		}
		cs.Samples = len(ds.Samples)
		r.summary.Data.Channels[name] = cs
		sets[name] = ds.Samples
	}

	limit := r.hp.MaxPrescriptions
	if r.hp.Architecture == model.ArchSeed && r.layout.BlockRows > 0 && (limit == 0 || limit > r.layout.BlockRows) {
		limit = r.layout.BlockRows // the seed network's block has a fixed number of rows
	}
	if limit > 0 {
		for name, s := range sets {
			out, affected, err := pipeline.LimitRows(s, limit, r.hp.OverflowPolicy)
			if err != nil {
				return fmt.Errorf("channel %s: %w", name, err)
			}
			if affected > 0 {
				r.log.printf("channel %s: %d group(s) over %d prescriptions (%s)", name, affected, limit, r.hp.OverflowPolicy)
			}
			r.summary.Data.Truncated += affected
			sets[name] = out
		}
	}

	r.train, r.validation, r.test = sets[ChannelTrain], sets[ChannelValidation], sets[ChannelTest]
	src := [3]string{"channel", "channel", "channel"}
	var fr [3]float64
	if r.validation == nil {
		fr[1], src[1] = r.hp.ValidationFraction, "split from train"
	}
	if r.test == nil && r.hp.TestFraction > 0 {
		fr[2], src[2] = r.hp.TestFraction, "split from train"
	}
	if fr[1] > 0 || fr[2] > 0 {
		fr[0] = 1 - fr[1] - fr[2]
		tr, va, te := pipeline.SplitBySubject(r.train, fr, r.hp.Seed)
		r.train = tr
		if fr[1] > 0 {
			r.validation = va
		}
		if fr[2] > 0 {
			r.test = te
		}
	}
	if r.test == nil {
		src[2] = "none"
	}
	switch {
	case len(r.train) == 0:
		return fmt.Errorf("channel train: no training samples left after the split; lower validation_fraction/test_fraction or add subjects")
	case len(r.validation) == 0:
		return fmt.Errorf("channel train: the validation split is empty (%d subject(s) in train); add a validation channel or more subjects", countSubjects(sets[ChannelTrain]))
	case src[2] != "none" && len(r.test) == 0:
		return fmt.Errorf("channel train: the test split is empty; lower test_fraction or add a test channel")
	}
	d := &r.summary.Data
	d.Analytes, d.EmbeddingDim = r.layout.Analytes, r.layout.EmbeddingDim
	d.Train = splitSummary(src[0], r.train)
	d.Validation = splitSummary(src[1], r.validation)
	d.Test = splitSummary(src[2], r.test)
	r.log.json("data", map[string]SplitSummary{"train": d.Train, "validation": d.Validation, "test": d.Test})
	return nil
}

func sameLayout(want, got pipeline.Layout) error {
	if strings.Join(want.Analytes, ",") != strings.Join(got.Analytes, ",") {
		return fmt.Errorf("analytes %s; expected %s", strings.Join(got.Analytes, ","), strings.Join(want.Analytes, ","))
	}
	if want.EmbeddingDim != got.EmbeddingDim {
		return fmt.Errorf("embedding width %d; expected %d", got.EmbeddingDim, want.EmbeddingDim)
	}
	if want.BlockRows != got.BlockRows || want.BlockFeatures != got.BlockFeatures {
		return fmt.Errorf("block %dx%d; expected %dx%d", got.BlockRows, got.BlockFeatures, want.BlockRows, want.BlockFeatures)
	}
	return nil
}

func countSubjects(s []pipeline.Sample) int {
	seen := map[string]bool{}
	for i := range s {
		seen[s[i].Subject] = true
	}
	return len(seen)
}

func splitSummary(source string, s []pipeline.Sample) SplitSummary {
	out := SplitSummary{Source: source, Samples: len(s), Subjects: countSubjects(s)}
	for i := range s {
		for _, ok := range s[i].PostObserved {
			if ok {
				out.Targets++
			}
		}
	}
	return out
}

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
	if err := checkpointMatches(ck, cfg, r.hp.Map()); err != nil {
		return nil, fmt.Errorf("checkpoint %s does not match this job: %v; delete it or restore the original data and hyperparameters", path, err)
	}
	r.log.printf("resuming from checkpoint %s (epoch %d, batch %d)", path, ck.Epoch, ck.Batch)
	// The checkpoint on disk is this position's exact one.
	r.savedCheckpoint, r.lastCheckpoint = true, [2]int{ck.Epoch, ck.Batch}
	return ck, nil
}

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
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// Save is atomic: a kill mid-write keeps the previous good checkpoint.
	if err := ck.Save(path); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	r.savedCheckpoint, r.lastCheckpoint = true, pos
	return nil
}

func (r *run) onEpoch(e model.EpochStats) {
	if r.firstEpoch {
		r.firstEpoch = false
		r.summary.FirstEpochAfter = r.opts.Now().Sub(r.opts.Start).Seconds()
		r.log.printf("first epoch finished %.2f s after start", r.summary.FirstEpochAfter)
	}
	rec := epochRecord(e)
	r.history = append(r.history, rec)
	fmt.Fprintln(r.opts.Stdout, metricdef.FormatEpoch(e.Epoch, r.hp.Epochs, epochValues(rec)))
}

func epochValues(h EpochRecord) []metricdef.Value {
	return []metricdef.Value{
		{Name: metricdef.TrainLoss, Value: h.TrainLoss},
		{Name: metricdef.ValidationLoss, Value: h.ValidationLoss},
		{Name: metricdef.ValidationRMSE, Value: h.ValidationRMSE},
		{Name: metricdef.ValidationMAE, Value: h.ValidationMAE},
	}
}

func (r *run) finishSummary(h *model.History, resume *model.Checkpoint, stopped bool) {
	s := &r.summary
	s.FormatVersion = MetricsFormatVersion
	s.TrainingJobName = r.opts.Getenv("TRAINING_JOB_NAME")
	s.EpochsRequested = r.hp.Epochs
	s.Hyperparameters = r.hp.Map()
	if resume != nil {
		s.ResumedFromEpoch = resume.Epoch
	}
	s.Status = StatusCompleted
	if h != nil {
		// The model's history includes the epochs before a resume.
		s.History = make([]EpochRecord, len(h.Epochs))
		for i, e := range h.Epochs {
			s.History[i] = epochRecord(e)
		}
		s.BestEpoch = h.BestEpoch
		if h.Stopped == model.StopEarly {
			s.Status = StatusEarlyStop
		}
	} else {
		s.History = r.history
	}
	if stopped {
		s.Status = StatusInterrupted
	}
	// Mark only the overall best epoch (EpochStats.Best flags each improvement).
	for i := range s.History {
		s.History[i].Best = s.History[i].Epoch == s.BestEpoch
	}
	if len(s.History) > 0 {
		s.EpochsRun = s.History[len(s.History)-1].Epoch
	}
}

func epochRecord(e model.EpochStats) EpochRecord {
	return EpochRecord{
		Epoch: e.Epoch, TrainLoss: e.TrainLoss, ValidationLoss: e.ValLoss,
		ValidationRMSE: e.ValRMSE, ValidationMAE: e.ValMAE, Best: e.Best, Seconds: e.Duration.Seconds(),
	}
}

// finalValues are the metrics of the best epoch plus the test metrics, printed last.
func (r *run) finalValues() []metricdef.Value {
	var vals []metricdef.Value
	for _, e := range r.summary.History {
		if e.Epoch == r.summary.BestEpoch {
			vals = epochValues(e)
		}
	}
	if m, ok := r.summary.Evaluation["test"]; ok {
		vals = append(vals, testValues(m)...)
	}
	return vals
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

// testValues are the test-split metrics added to the closing line.
func testValues(m *model.Metrics) []metricdef.Value {
	return []metricdef.Value{
		{Name: metricdef.TestLoss, Value: m.MSE},
		{Name: metricdef.TestRMSE, Value: m.RMSE},
		{Name: metricdef.TestMAE, Value: m.MAE},
	}
}

// writeOutputs evaluates the model and both baselines on validation and test, and
// writes metrics.json, predictions.csv, the two charts and report.md.
func (r *run) writeOutputs(m *model.Model) error {
	dir := r.p.OutputDataDir()
	s := &r.summary
	s.Evaluation = map[string]*model.Metrics{}
	s.Scores = map[string][]ScoreRow{}
	trainMean := model.TrainMean(r.train, len(r.layout.Analytes))
	for _, split := range []struct {
		name    string
		samples []pipeline.Sample
	}{{ChannelValidation, r.validation}, {ChannelTest, r.test}} {
		if len(split.samples) == 0 {
			continue
		}
		met, err := model.Evaluate(m, split.samples, trainMean)
		if err != nil {
			return fmt.Errorf("evaluate on %s: %w", split.name, err)
		}
		s.Evaluation[split.name] = met
		s.Scores[split.name] = scoreRows(met)
	}
	s.Final = map[string]float64{}
	for _, v := range r.finalValues() {
		s.Final[v.Name] = v.Value
	}

	predSplit, predSamples := ChannelValidation, r.validation
	if len(r.test) > 0 {
		predSplit, predSamples = ChannelTest, r.test
	}
	s.PredictionsSplit = predSplit
	pred, err := m.Predict(predSamples)
	if err != nil {
		return fmt.Errorf("predict %s: %w", predSplit, err)
	}
	if err := WritePredictions(filepath.Join(dir, PredictionsFile), r.layout.Analytes, predSamples, pred); err != nil {
		return err
	}
	if err := WriteLossChart(filepath.Join(dir, LossChartFile), s.History); err != nil {
		return err
	}
	errs := StandardizedErrors(r.train, predSamples, pred, len(r.layout.Analytes))
	if err := WriteErrorChart(filepath.Join(dir, ErrorChartFile), predSplit, errs); err != nil {
		return err
	}
	if err := WriteMetrics(filepath.Join(dir, MetricsFile), s); err != nil {
		return err
	}
	if err := WriteReport(filepath.Join(dir, ReportFile), s, r.readReport); err != nil {
		return err
	}
	r.log.printf("outputs written to %s", dir)
	return nil
}

func scoreRows(m *model.Metrics) []ScoreRow {
	rows := []ScoreRow{{Model: "model", RMSE: m.RMSE, MAE: m.MAE, N: m.Observed}}
	for _, name := range []string{model.BaselineTrainMean, model.BaselinePostEqualsPre} {
		if b, ok := m.Baselines[name]; ok {
			rows = append(rows, ScoreRow{Model: name, RMSE: b.RMSE, MAE: b.MAE, N: m.Observed})
		}
	}
	return rows
}

// trainingInfo is model/training.json.
type trainingInfo struct {
	TrainingJobName  string             `json:"training_job_name,omitempty"`
	Status           string             `json:"status"`
	EpochsRun        int                `json:"epochs_run"`
	BestEpoch        int                `json:"best_epoch"`
	ResumedFromEpoch int                `json:"resumed_from_epoch,omitempty"`
	Hyperparameters  map[string]string  `json:"hyperparameters"`
	Final            map[string]float64 `json:"final_metrics"`
}

func writeTrainingInfo(path string, s *Summary) error {
	info := trainingInfo{TrainingJobName: s.TrainingJobName, Status: s.Status, EpochsRun: s.EpochsRun,
		BestEpoch: s.BestEpoch, ResumedFromEpoch: s.ResumedFromEpoch, Hyperparameters: s.Hyperparameters, Final: s.Final}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(data, '\n'))
}
