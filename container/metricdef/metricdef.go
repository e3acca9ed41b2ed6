// Package metricdef is the single source of truth for the trainer's metric log lines
// and the regexes SageMaker uses to scrape them (MetricDefinitions).
//
// The trainer prints one line per epoch and, at the end, the best epoch's metrics again
// (so the last value SageMaker sees, FinalMetricDataList, is the one a tuning job should
// rank). Format, one line each:
//
//	epoch=3/40 train:loss=0.41 validation:loss=0.38 validation:rmse=0.61 validation:mae=0.47
//	best epoch=2/40 train:loss=0.42 validation:loss=0.37 validation:rmse=0.6 validation:mae=0.46 test:rmse=...
//
// Values are printed with %g (6 significant digits). The package has no heavy imports so
// the launcher can send the same definitions without linking the model.
package metricdef

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Metric names, in the order they are printed.
const (
	TrainLoss      = "train:loss"
	ValidationLoss = "validation:loss"
	ValidationRMSE = "validation:rmse"
	ValidationMAE  = "validation:mae"
	TestLoss       = "test:loss"
	TestRMSE       = "test:rmse"
	TestMAE        = "test:mae"
)

// Names lists every metric the trainer may print.
var Names = []string{TrainLoss, ValidationLoss, ValidationRMSE, ValidationMAE, TestLoss, TestRMSE, TestMAE}

// Objective is the metric a tuning job should minimise by default.
const Objective = ValidationRMSE

// numberPattern matches what strconv.FormatFloat(v, 'g', 6, 64) prints for finite values.
const numberPattern = `(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)`

// Definition is one entry of CreateTrainingJob's AlgorithmSpecification.MetricDefinitions.
type Definition struct {
	Name  string `json:"Name"`
	Regex string `json:"Regex"`
}

// Regex returns the regex for a metric name: the name as a whole word, "=", then a number.
// Python's and Go's regex syntax agree on everything it uses.
func Regex(name string) string {
	return `(?:^|\s)` + regexp.QuoteMeta(name) + `=` + numberPattern
}

// Definitions returns the MetricDefinitions for every metric in Names.
func Definitions() []Definition {
	out := make([]Definition, len(Names))
	for i, n := range Names {
		out[i] = Definition{Name: n, Regex: Regex(n)}
	}
	return out
}

// Value is one named metric value.
type Value struct {
	Name  string
	Value float64
}

// FormatEpoch formats the per-epoch line: "epoch=E/N name=value ...".
func FormatEpoch(epoch, epochs int, values []Value) string {
	return fmt.Sprintf("epoch=%d/%d%s", epoch, epochs, formatValues(values))
}

// FormatBest formats the closing line that repeats the best epoch's metrics.
func FormatBest(epoch, epochs int, values []Value) string {
	return fmt.Sprintf("best epoch=%d/%d%s", epoch, epochs, formatValues(values))
}

func formatValues(values []Value) string {
	var b strings.Builder
	for _, v := range values {
		b.WriteByte(' ')
		b.WriteString(v.Name)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(v.Value, 'g', 6, 64))
	}
	return b.String()
}

var compiled = func() map[string]*regexp.Regexp {
	m := map[string]*regexp.Regexp{}
	for _, n := range Names {
		m[n] = regexp.MustCompile(Regex(n))
	}
	return m
}()

// Scrape applies every definition to one log line, as SageMaker does, and returns
// the metrics it finds.
func Scrape(line string) map[string]float64 {
	out := map[string]float64{}
	for name, re := range compiled {
		if m := re.FindStringSubmatch(line); m != nil {
			if f, err := strconv.ParseFloat(m[1], 64); err == nil {
				out[name] = f
			}
		}
	}
	return out
}
