package trainer

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

func TestWritePredictions(t *testing.T) {
	analytes := []string{"ph", "sodium", "po2"}
	samples := []pipeline.Sample{
		{Subject: "s1", Start: "2126-12-19", Pre: []float32{7.38, 0, 0}, PreObserved: []bool{true, false, false},
			Post: []float32{7.41, 140, 0}, PostObserved: []bool{true, true, false}},
		{Subject: "s2", Start: "2127-01-02", Pre: []float32{0, 0, 91.5}, PreObserved: []bool{false, false, true},
			Post: []float32{0, 0, 88.5}, PostObserved: []bool{false, false, true}},
		{Subject: "s3", Start: "2127-01-03", Pre: []float32{1, 2, 3}, PreObserved: []bool{true, true, true},
			Post: []float32{1, 2, 3}, PostObserved: []bool{false, false, false}},
	}
	pred := [][]float32{{7.3849, 139.25, 99}, {7, 135, 90.125}, {1, 1, 1}}
	path := filepath.Join(t.TempDir(), "data", PredictionsFile)
	if err := writePredictions(path, analytes, samples, pred); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	// pre is the value the model was given, empty where it was missing, so post = pre can
	// be scored beside the model from this file alone.
	want := "subject_id,prescription_start,analyte,pre,observed,predicted\n" +
		"s1,2126-12-19,ph,7.38,7.41,7.3849\n" +
		"s1,2126-12-19,sodium,,140,139.25\n" +
		"s2,2127-01-02,po2,91.5,88.5,90.125\n"
	if string(got) != want {
		t.Errorf("predictions.csv:\n%s\nwant:\n%s", got, want)
	}

	bad := []struct {
		name    string
		samples []pipeline.Sample
		pred    [][]float32
		want    string
	}{
		{"fewer predictions than samples", samples, pred[:2], "2 predictions for 3 samples"},
		{"prediction width", samples[:1], [][]float32{{1, 2}}, "sample 0 (subject s1, 2126-12-19): 2 predictions and 3 targets for 3 analytes"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), PredictionsFile)
			err := writePredictions(p, analytes, b.samples, b.pred)
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("error %v, want %q", err, b.want)
			}
			if _, statErr := os.Stat(p); statErr == nil {
				t.Errorf("%s written despite the error", p)
			}
		})
	}
}

func TestWriteMetricsNonFinite(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsFile)
	s := &Summary{FormatVersion: 1, Status: StatusCompleted,
		History: []EpochRecord{{Epoch: 1, TrainLoss: math.NaN(), ValidationLoss: math.Inf(1)}},
		Final:   map[string]float64{"validation:rmse": math.NaN()}}
	if err := writeMetrics(path, s); err != nil {
		t.Fatal(err)
	}
	var back Summary
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("metrics.json does not parse: %v", err)
	}
	if back.History[0].TrainLoss != -1 || back.History[0].ValidationLoss != -1 || back.Final["validation:rmse"] != -1 {
		t.Errorf("non-finite values not replaced: %+v %v", back.History, back.Final)
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		write func(path string) error
	}{
		{"loss", func(p string) error {
			return writeLossChart(p, []EpochRecord{{Epoch: 1, TrainLoss: 1, ValidationLoss: 1.2}, {Epoch: 2, TrainLoss: 0.8, ValidationLoss: 0.9, Best: true}})
		}},
		{"loss with no epochs", func(p string) error { return writeLossChart(p, nil) }},
		{"loss with NaN", func(p string) error {
			return writeLossChart(p, []EpochRecord{{Epoch: 1, TrainLoss: math.NaN(), ValidationLoss: 1}})
		}},
		{"errors", func(p string) error { return writeErrorChart(p, "test", []float64{-1, 0, 0.5, 0.5, 2}) }},
		{"errors empty", func(p string) error { return writeErrorChart(p, "test", nil) }},
		{"cross-validation", func(p string) error {
			return WriteCVChart(p, &model.CVResult{Folds: 2, Seed: 1,
				Methods: []model.MethodSummary{{Method: "model", Mean: 1}, {Method: "post_equals_pre", Mean: 1.1}},
				PerFold: []model.FoldResult{{Fold: 1, RMSE: map[string]float64{"model": 0.9, "post_equals_pre": 1}},
					{Fold: 2, RMSE: map[string]float64{"model": 1.1, "post_equals_pre": math.NaN()}}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".png")
			if err := tt.write(path); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 250 {
				t.Errorf("image %v too small", b)
			}
		})
	}
}

func TestStandardizedErrors(t *testing.T) {
	train := []pipeline.Sample{
		{Post: []float32{1, 100}, PostObserved: []bool{true, true}},
		{Post: []float32{3, 0}, PostObserved: []bool{true, false}},
	}
	// analyte 0: sd 1 (values 1, 3); analyte 1: one observation → sd 1 fallback.
	samples := []pipeline.Sample{{Post: []float32{2, 50}, PostObserved: []bool{true, true}}}
	pred := [][]float32{{4, 47}}
	got := standardizedErrors(train, samples, pred, 2)
	want := []float64{2, -3}
	if len(got) != len(want) || math.Abs(got[0]-want[0]) > 1e-9 || math.Abs(got[1]-want[1]) > 1e-9 {
		t.Errorf("StandardizedErrors = %v, want %v", got, want)
	}
}
