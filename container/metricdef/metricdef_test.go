package metricdef

import (
	"math"
	"regexp"
	"testing"
)

func TestFormatAndScrapeAgree(t *testing.T) {
	values := []Value{{TrainLoss, 0.412345678}, {ValidationLoss, 3.5e-7}, {ValidationRMSE, 12}, {ValidationMAE, -0.25}}
	line := FormatEpoch(3, 40, values)
	if want := "epoch=3/40 train:loss=0.412346 validation:loss=3.5e-07 validation:rmse=12 validation:mae=-0.25"; line != want {
		t.Fatalf("line = %q, want %q", line, want)
	}
	got := Scrape(line)
	if len(got) != len(values) {
		t.Fatalf("scraped %v from %q", got, line)
	}
	for _, v := range values {
		if math.Abs(got[v.Name]-v.Value) > 1e-6*math.Max(1, math.Abs(v.Value)) {
			t.Errorf("%s: scraped %g, printed %g", v.Name, got[v.Name], v.Value)
		}
	}
	best := FormatBest(2, 40, values[:1])
	if got := Scrape(best); got[TrainLoss] != 0.412346 {
		t.Errorf("best line %q scraped as %v", best, got)
	}
}

func TestRegexesDoNotMatchPrefixedNames(t *testing.T) {
	// "best_validation:loss" or "xvalidation:rmse" must not feed validation:* metrics.
	for _, line := range []string{"best_validation:loss=1", "xvalidation:rmse=2", "validation:rmse=NaN", "validation:rmse="} {
		if got := Scrape(line); len(got) != 0 {
			t.Errorf("Scrape(%q) = %v, want nothing", line, got)
		}
	}
}

func TestDefinitionsFitSageMakerLimits(t *testing.T) {
	defs := Definitions()
	if len(defs) > 20 { // tuning jobs allow 20 metrics
		t.Fatalf("%d definitions, tuning jobs accept at most 20", len(defs))
	}
	for _, d := range defs {
		if len(d.Name) < 1 || len(d.Name) > 255 || len(d.Regex) < 1 || len(d.Regex) > 500 {
			t.Errorf("%+v breaks the MetricDefinition length limits", d)
		}
		re := regexp.MustCompile(d.Regex)
		if re.NumSubexp() != 1 {
			t.Errorf("%s: %d capture groups, SageMaker uses the first; want exactly 1", d.Name, re.NumSubexp())
		}
	}
	found := false
	for _, d := range defs {
		found = found || d.Name == Objective
	}
	if !found {
		t.Errorf("objective %s is not among the definitions", Objective)
	}
}
