package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// TrainingInfoFile is written into model/ next to the model's own files: the complete,
// validated hyperparameters and how the run ended, for people and the launcher.
const TrainingInfoFile = "training.json"

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
	if h != nil && resume == nil {
		s.Initial = &EpochRecord{TrainLoss: math.NaN(), ValidationLoss: h.Initial.ValLoss,
			ValidationRMSE: h.Initial.ValRMSE, ValidationMAE: h.Initial.ValMAE, Best: h.Initial.Best && h.BestEpoch == 0}
	}
	if h != nil {
		// The model's history includes the epochs before a resume.
		s.History = make([]EpochRecord, len(h.Epochs))
		for i, e := range h.Epochs {
			s.History[i] = epochRecord(e)
		}
		s.BestEpoch = h.BestEpoch
		if len(h.Shrink) == len(s.Data.Analytes) {
			s.Shrink = make(map[string]float64, len(h.Shrink))
			for j, f := range h.Shrink {
				s.Shrink[s.Data.Analytes[j]] = f
			}
		}
		if len(h.LinearKept) == len(s.Data.Analytes) {
			s.LinearBase, s.LinearPenalty = make(map[string]bool, len(h.LinearKept)), h.LinearPenalty
			for j, k := range h.LinearKept {
				s.LinearBase[s.Data.Analytes[j]] = k
			}
		}
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

// keptUntrained reports whether no epoch beat the untrained network (post = pre), whose
// weights are then the model.
func (s *Summary) keptUntrained() bool {
	return s.BestEpoch == 0 && s.Initial != nil && s.Initial.Best
}

// finalValues are the metrics of the best epoch (of the untrained weights, without a
// training loss, when they were kept) plus the test metrics, printed last.
func (r *run) finalValues() []metricdef.Value {
	var vals []metricdef.Value
	for _, e := range r.summary.History {
		if e.Epoch == r.summary.BestEpoch {
			vals = epochValues(e)
		}
	}
	if r.summary.keptUntrained() {
		vals = epochValues(*r.summary.Initial)[1:]
	}
	if m, ok := r.summary.Evaluation["test"]; ok {
		vals = append(vals, testValues(m)...)
	}
	return vals
}

// testValues are the test-split metrics added to the closing line.
func testValues(m *model.Metrics) []metricdef.Value {
	return []metricdef.Value{
		{Name: metricdef.TestLoss, Value: m.MSE},
		{Name: metricdef.TestRMSE, Value: m.RMSE},
		{Name: metricdef.TestMAE, Value: m.MAE},
	}
}

// writeOutputs evaluates the model and the baselines on train, validation and test, and
// writes metrics.json, predictions.csv, the two charts and report.md. A non-zero deadline
// (after SIGTERM) bounds the best-effort parts: the wait for the ridge baseline and the
// evaluations, which are left out once it has passed.
func (r *run) writeOutputs(m *model.Model, ridgeFit *backgroundRidge, deadline time.Time) error {
	dir := r.p.OutputDataDir()
	s := &r.summary
	s.Evaluation = map[string]*model.Metrics{}
	s.NotBeaten = map[string][]string{}
	s.Scores = map[string][]ScoreRow{}
	trainMean := model.TrainMean(r.train, len(r.layout.Analytes))
	// validation and test first: after SIGTERM the (largest) train split is the one to skip
	splits := []struct {
		name    string
		samples []pipeline.Sample
	}{{ChannelValidation, r.validation}, {ChannelTest, r.test}, {ChannelTrain, r.train}}
	for _, split := range splits {
		if len(split.samples) == 0 {
			continue
		}
		if r.pastDeadline(deadline) {
			r.log.printf("evaluation on %s left out: past the stop deadline", split.name)
			continue
		}
		met, err := model.Evaluate(m, split.samples, trainMean)
		if err != nil {
			return fmt.Errorf("evaluate on %s: %w", split.name, err)
		}
		s.Evaluation[split.name] = met
	}
	// The ridge is a baseline to compare with: when it fails (or, after SIGTERM, is late)
	// the outputs leave it out rather than lose the trained model.
	ridge, err := ridgeFit.wait(deadline, r.opts.Now)
	if err != nil {
		r.log.printf("ridge baseline left out: %v", err)
		var pe *model.PanicError
		if errors.As(err, &pe) {
			r.log.printf("%s", pe.Stack)
		}
		ridge = nil
	}
	for _, split := range splits {
		met := s.Evaluation[split.name]
		if met == nil {
			continue
		}
		if ridge != nil {
			if met.Baselines[model.BaselineRidge], err = model.ScorePredictions(m.Scaler(), split.samples, ridge.Predict(split.samples)); err != nil {
				return fmt.Errorf("evaluate on %s: %w", split.name, err)
			}
		}
		s.Scores[split.name] = scoreRows(met)
		if split.name == ChannelTrain {
			continue // fitted there: no verdict
		}
		for _, b := range baselineOrder {
			if bs, ok := met.Baselines[b]; ok && met.RMSE >= bs.RMSE {
				s.NotBeaten[split.name] = append(s.NotBeaten[split.name], b)
			}
		}
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
	if err := writePredictions(filepath.Join(dir, PredictionsFile), r.layout.Analytes, predSamples, pred); err != nil {
		return err
	}
	if r.pastDeadline(deadline) {
		r.log.printf("drug effects left out: past the stop deadline")
	} else if s.DrugEffects, err = model.DrugEffects(m, r.train, predSamples, reportedDrugs); err != nil {
		return fmt.Errorf("drug effects on %s: %w", predSplit, err)
	}
	if err := writeLossChart(filepath.Join(dir, LossChartFile), s.History); err != nil {
		return err
	}
	errs := standardizedErrors(r.train, predSamples, pred, len(r.layout.Analytes))
	if err := writeErrorChart(filepath.Join(dir, ErrorChartFile), predSplit, errs); err != nil {
		return err
	}
	if err := writeMetrics(filepath.Join(dir, MetricsFile), s); err != nil {
		return err
	}
	if err := writeReport(filepath.Join(dir, ReportFile), s, r.readReport); err != nil {
		return err
	}
	r.log.printf("outputs written to %s", dir)
	return nil
}

// pastDeadline reports whether the stop deadline of writeOutputs (zero: none) has passed.
func (r *run) pastDeadline(deadline time.Time) bool {
	return !deadline.IsZero() && !r.opts.Now().Before(deadline)
}

// reportedDrugs is how many of the most frequent training drugs metrics.json and report.md
// give the predicted effects of.
const reportedDrugs = 10

// baselineOrder is the order baselines are reported in.
var baselineOrder = []string{model.BaselineTrainMean, model.BaselinePostEqualsPre, model.BaselineRidge}

func scoreRows(m *model.Metrics) []ScoreRow {
	rows := []ScoreRow{{Model: "model", RMSE: m.RMSE, MAE: m.MAE, N: m.Observed}}
	for _, name := range baselineOrder {
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
	return atomicfile.WriteFile(path, append(data, '\n'))
}

// fitRidge fits the ridge baseline; a variable so tests can make it slow, fail or panic.
var fitRidge = model.FitRidge

// backgroundRidge fits the ridge baseline while the network trains: it needs only the
// training split and the scaler, and at batch sizes up to 64 training leaves a core idle.
type backgroundRidge struct {
	done  chan struct{}
	ridge *model.Ridge
	err   error
}

func startRidge(train []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout, seed int64) *backgroundRidge {
	b := &backgroundRidge{done: make(chan struct{})}
	fit := fitRidge // read here: after a stop the goroutine may outlive the run (and a test's stub)
	go func() {
		defer close(b.done)
		defer model.Recover(&b.err) // a panic here would end the process past Train's guard
		b.ridge, b.err = fit(train, sc, l, seed)
	}()
	return b
}

// errRidgeLate is wait's error when the fit did not finish before the deadline.
var errRidgeLate = errors.New("not finished before the stop deadline")

// wait returns the fitted ridge, waiting at most until deadline (zero: no limit).
func (b *backgroundRidge) wait(deadline time.Time, now func() time.Time) (*model.Ridge, error) {
	if deadline.IsZero() {
		<-b.done
		return b.ridge, b.err
	}
	t := time.NewTimer(max(deadline.Sub(now()), 0))
	defer t.Stop()
	select {
	case <-b.done:
		return b.ridge, b.err
	case <-t.C:
		return nil, errRidgeLate
	}
}
