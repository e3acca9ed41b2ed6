package trainer

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// Output file names under output/data.
const (
	MetricsFile     = "metrics.json"
	PredictionsFile = "predictions.csv"
	LossChartFile   = "loss.png"
	ErrorChartFile  = "errors.png"
	ReportFile      = "report.md"
)

// MetricsFormatVersion is bumped when metrics.json changes incompatibly.
const MetricsFormatVersion = 1

// Run statuses in metrics.json.
const (
	StatusCompleted   = "completed"     // ran all epochs
	StatusEarlyStop   = "early_stopped" // patience ran out
	StatusInterrupted = "interrupted"   // SIGTERM; a checkpoint was written
)

// EpochRecord is one epoch of the training history.
type EpochRecord struct {
	Epoch          int     `json:"epoch"`
	TrainLoss      float64 `json:"train_loss"`
	ValidationLoss float64 `json:"validation_loss"`
	ValidationRMSE float64 `json:"validation_rmse"`
	ValidationMAE  float64 `json:"validation_mae"`
	Best           bool    `json:"best"`
	Seconds        float64 `json:"seconds"`
}

// SplitSummary counts one data split.
type SplitSummary struct {
	Source   string `json:"source"` // "channel" or "split from train" (or "none")
	Samples  int    `json:"samples"`
	Subjects int    `json:"subjects"`
	Targets  int    `json:"targets"` // observed target values
}

// ChannelSummary describes what one channel held.
type ChannelSummary struct {
	Prepared bool     `json:"prepared"`
	Files    []string `json:"files,omitempty"` // relative to the channel folder
	Samples  int      `json:"samples"`
}

// DataSummary describes the data a run used.
type DataSummary struct {
	Analytes     []string                  `json:"analytes"`
	EmbeddingDim int                       `json:"embedding_dim"`
	Channels     map[string]ChannelSummary `json:"channels"`
	Train        SplitSummary              `json:"train"`
	Validation   SplitSummary              `json:"validation"`
	Test         SplitSummary              `json:"test"`
	Truncated    int                       `json:"truncated_groups"` // groups cut to max_prescriptions
	// Thin lists the analytes with too few training values for their own scale (ThinRule).
	Thin     []string `json:"thin_analytes,omitempty"`
	ThinRule string   `json:"thin_rule,omitempty"`
	// Gaps is the train channel's distance between paired tests and prescriptions.
	Gaps *pipeline.GapReport `json:"gaps,omitempty"`
	// Pairs is how native MIMIC tables in the train channel were paired: per analyte
	// the groups with a pair and the gap distributions.
	Pairs *pipeline.PairReport `json:"pairs,omitempty"`
	// Warnings are the reader's warnings on the train channel (a -1.0 whose meaning the
	// data left open), shown at the top of report.md's data section.
	Warnings []string `json:"warnings,omitempty"`
}

// ScoreRow is one model's score on one split, for report.md.
type ScoreRow struct {
	Model string
	RMSE  float64
	MAE   float64
	N     int
}

// Summary is metrics.json.
type Summary struct {
	FormatVersion    int                `json:"format_version"`
	TrainingJobName  string             `json:"training_job_name,omitempty"`
	Status           string             `json:"status"`
	EpochsRequested  int                `json:"epochs_requested"`
	EpochsRun        int                `json:"epochs_run"`
	BestEpoch        int                `json:"best_epoch"`
	ResumedFromEpoch int                `json:"resumed_from_epoch,omitempty"`
	FirstEpochAfter  float64            `json:"seconds_to_first_epoch"`
	TrainingSeconds  float64            `json:"training_seconds"`
	Final            map[string]float64 `json:"final"` // the metrics of the closing "best epoch" line
	Hyperparameters  map[string]string  `json:"hyperparameters"`
	Data             DataSummary        `json:"data"`
	// Evaluation maps a split ("train", "validation", "test") to the kept weights' metrics
	// (unweighted, dropout off, so train and validation compare) and the baselines'
	// (train_mean, post_equals_pre, ridge) on that split.
	Evaluation map[string]*model.Metrics `json:"evaluation"`
	// NotBeaten lists, per scored split, the baselines whose RMSE the model does not beat.
	NotBeaten        map[string][]string `json:"model_does_not_beat"`
	PredictionsSplit string              `json:"predictions_split"`
	// DrugEffects is, for the most frequent drugs in training, the change the model
	// predicts their rows cause on the PredictionsSplit's subjects (model.DrugEffects).
	DrugEffects []model.DrugEffect `json:"drug_effects,omitempty"`
	// Initial is the untrained network (post = pre) on validation, epoch 0; with
	// BestEpoch 0 no epoch beat it and its weights are the model.
	Initial *EpochRecord  `json:"initial,omitempty"`
	History []EpochRecord `json:"history"`
	// Shrink maps each analyte to the factor in [0, 1] its learned change was scaled by
	// after training; 0 means it predicts post = pre. Absent when no trained epoch was kept.
	Shrink map[string]float64 `json:"shrink,omitempty"`
	// LinearBase maps each analyte to whether the linear base (linear_base=ridge) stayed
	// for it, LinearPenalty the ridge penalty it was fitted with. Absent without one.
	LinearBase    map[string]bool `json:"linear_base,omitempty"`
	LinearPenalty float64         `json:"linear_penalty,omitempty"`

	// Scores is Evaluation flattened for report.md.
	Scores map[string][]ScoreRow `json:"-"`
}

// writeMetrics writes metrics.json atomically. Non-finite numbers (a diverged run) are
// written as null rather than failing the whole output.
func writeMetrics(path string, s *Summary) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		// encoding/json rejects NaN and Inf; retry with them replaced.
		clean := *s
		clean.History = make([]EpochRecord, len(s.History))
		for i, h := range s.History {
			clean.History[i] = h.finite()
		}
		if s.Initial != nil {
			in := s.Initial.finite()
			clean.Initial = &in
		}
		clean.Final = map[string]float64{}
		for k, v := range s.Final {
			clean.Final[k] = finite(v)
		}
		if data, err = json.MarshalIndent(&clean, "", "  "); err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
	}
	return atomicfile.WriteFile(path, append(data, '\n'))
}

func (h EpochRecord) finite() EpochRecord {
	h.TrainLoss, h.ValidationLoss = finite(h.TrainLoss), finite(h.ValidationLoss)
	h.ValidationRMSE, h.ValidationMAE = finite(h.ValidationRMSE), finite(h.ValidationMAE)
	return h
}

// finite maps NaN and Inf to -1, which no loss or error can be, so a diverged run is
// still readable.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return -1
	}
	return v
}

// predictionsHeader is the header of predictions.csv.
var predictionsHeader = []string{"subject_id", "prescription_start", "analyte", "pre", "observed", "predicted"}

// writePredictions writes predictions.csv: one row per observed target value, in the
// original units, with the pre value the model was given (empty where it was missing) so
// that post = pre can be scored beside the model from the file alone. pred[i] holds
// sample i's prediction for every analyte.
func writePredictions(path string, analytes []string, samples []pipeline.Sample, pred [][]float32) error {
	if len(pred) != len(samples) {
		return fmt.Errorf("write %s: %d predictions for %d samples", path, len(pred), len(samples))
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(predictionsHeader); err != nil {
			return err
		}
		row := make([]string, len(predictionsHeader))
		for i := range samples {
			s := &samples[i]
			if len(pred[i]) != len(analytes) || len(s.Post) != len(analytes) || len(s.PostObserved) != len(analytes) {
				return fmt.Errorf("sample %d (subject %s, %s): %d predictions and %d targets for %d analytes", i, s.Subject, s.Start, len(pred[i]), len(s.Post), len(analytes))
			}
			hasPre := len(s.Pre) == len(analytes) && len(s.PreObserved) == len(analytes)
			for j, name := range analytes {
				if !s.PostObserved[j] {
					continue
				}
				row[0], row[1], row[2], row[3] = s.Subject, s.Start, name, ""
				if hasPre && s.PreObserved[j] {
					row[3] = strconv.FormatFloat(float64(s.Pre[j]), 'g', -1, 32)
				}
				row[4] = strconv.FormatFloat(float64(s.Post[j]), 'g', -1, 32)
				row[5] = strconv.FormatFloat(float64(pred[i][j]), 'g', -1, 32)
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
