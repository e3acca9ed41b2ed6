package trainer

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// writeReport writes report.md: data, hyperparameters, metrics and baselines.
func writeReport(path string, s *Summary, readReport string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		ew := &errWriter{w: w}
		renderReport(ew, s, readReport)
		return ew.err
	})
}

func renderReport(w io.Writer, s *Summary, readReport string) {
	pf := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	title := "BlueBlood training report"
	if s.TrainingJobName != "" {
		title += ": " + s.TrainingJobName
	}
	pf("# %s\n\n", title)
	pf("Status: **%s** after %d of %d epochs; best epoch %d.", s.Status, s.EpochsRun, s.EpochsRequested, s.BestEpoch)
	if s.keptUntrained() {
		pf(" On validation no epoch beat the untrained network, which predicts post = pre (the training mean where pre is missing), so its weights are the model.")
	}
	if len(s.LinearBase) > 0 {
		pf(" %s", linearSentence(s.LinearBase, s.LinearPenalty))
	}
	if len(s.Shrink) > 0 {
		pf(" %s", shrinkSentence(s.Shrink))
	}
	if s.ResumedFromEpoch > 0 {
		pf(" Resumed from a checkpoint after epoch %d.", s.ResumedFromEpoch)
	}
	pf(" First epoch done %.1f s after start; training took %.1f s.\n\n", s.FirstEpochAfter, s.TrainingSeconds)

	pf("## Data\n\n")
	d := s.Data
	for _, w := range d.Warnings {
		pf("**%s**\n\n", w)
	}
	pf("%d analytes (%s); drug embeddings of width %d.\n\n", len(d.Analytes), strings.Join(d.Analytes, ", "), d.EmbeddingDim)
	pf("| split | source | samples | subjects | observed targets |\n|---|---|---:|---:|---:|\n")
	for _, r := range []struct {
		name string
		s    SplitSummary
	}{{"train", d.Train}, {"validation", d.Validation}, {"test", d.Test}} {
		pf("| %s | %s | %d | %d | %d |\n", r.name, r.s.Source, r.s.Samples, r.s.Subjects, r.s.Targets)
	}
	pf("\n")
	names := make([]string, 0, len(d.Channels))
	for n := range d.Channels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := d.Channels[n]
		kind := fmt.Sprintf("%d table file(s)", len(c.Files))
		if c.Prepared {
			kind = "a prepared dataset"
		}
		pf("- channel `%s`: %s, %d samples\n", n, kind, c.Samples)
	}
	if g := d.Gaps; g != nil {
		pf("- test gaps in the train channel: the pre test lies a median %.0f h (90%%: %.0f h) before the prescription, the post test a median %.0f h (90%%: %.0f h) after it; %d of %d groups have both within 24 h; one post test serves up to %d prescription dates", g.Pre.Median, g.Pre.P90, g.Post.Median, g.Post.P90, g.BothWithin24h, g.Groups, g.MaxGroupsPerPostTest)
		if g.MaxGapHours > 0 {
			pf("; %d groups over max_gap_hours=%g were dropped", g.DroppedOverMax, g.MaxGapHours)
		}
		pf("\n")
	}
	writePairs(pf, d.Pairs)
	if d.Truncated > 0 {
		pf("- %d prescription group(s) were truncated to max_prescriptions\n", d.Truncated)
	}
	if strings.TrimSpace(readReport) != "" {
		pf("\n<details><summary>Reader report</summary>\n\n```\n%s\n```\n\n</details>\n", strings.TrimSpace(readReport))
	}

	pf("\n## Hyperparameters\n\n| name | value | default |\n|---|---|---|\n")
	for _, spec := range hparams.Specs {
		v := s.Hyperparameters[spec.Name]
		mark := ""
		if v != spec.Default {
			mark = " (set)"
		}
		pf("| %s | %s%s | %s |\n", spec.Name, v, mark, spec.Default)
	}

	pf("\n## Metrics\n\nRMSE and MAE in scaled units (each analyte standardised with the training split), over observed targets only. Baselines: `train_mean` predicts each analyte's training mean, `post_equals_pre` predicts the value before the prescriptions (the training mean where it is missing), `ridge` adds to that a ridge regression of the change on the pre values and the summed and dose-weighted summed drug embeddings (penalty chosen by inner folds on train).\n")
	for _, split := range []string{"test", "validation", "train"} {
		rows := s.Scores[split]
		if len(rows) == 0 {
			continue
		}
		note := ""
		switch split {
		case "test":
			note = " (subjects not used for training or for choosing the epoch)"
		case "validation":
			note = " (chose the epoch, so the model's figure is optimistic)"
		case "train":
			note = " (fitted; the model's figure is its loss without dropout or loss weights, comparable with validation)"
		}
		pf("\n### %s%s\n\n| model | RMSE | MAE | targets |\n|---|---:|---:|---:|\n", split, note)
		for _, r := range rows {
			pf("| %s | %.4g | %.4g | %d |\n", r.Model, r.RMSE, r.MAE, r.N)
		}
		if ev := s.Evaluation[split]; ev != nil && ev.Unscored > 0 {
			pf("\n%d observed targets of analytes with no training value (no standard unit) are left out of every score.\n", ev.Unscored)
		}
		if split == "train" {
			continue
		}
		if nb := s.NotBeaten[split]; len(nb) > 0 {
			pf("\n**The model does not beat %s on the %s split.**\n", strings.Join(nb, ", "), split)
		} else {
			pf("\nThe model beats every baseline on the %s split.\n", split)
		}
	}
	if tr, va := s.Evaluation["train"], s.Evaluation["validation"]; tr != nil && va != nil {
		pf("\nLoss of the kept weights, measured alike (masked MSE, unweighted, dropout off): train %.4g, validation %.4g. The history's train loss is measured during training, with dropout and the loss weights, so it is not comparable with its validation loss.\n", tr.MSE, va.MSE)
	}
	if len(s.Data.Thin) > 0 {
		pf("\nThin analytes (%s): %s.\n", s.Data.ThinRule, strings.Join(s.Data.Thin, ", "))
	}

	pf("\n## History\n\n| epoch | train loss (dropout, weighted) | validation loss | validation RMSE | validation MAE | seconds |\n|---:|---:|---:|---:|---:|---:|\n")
	if in := s.Initial; in != nil {
		mark := ""
		if s.keptUntrained() {
			mark = " *"
		}
		pf("| 0%s (untrained) | | %.4g | %.4g | %.4g | |\n", mark, in.ValidationLoss, in.ValidationRMSE, in.ValidationMAE)
	}
	for _, h := range s.History {
		mark := ""
		if h.Best {
			mark = " *"
		}
		pf("| %d%s | %.4g | %.4g | %.4g | %.4g | %.1f |\n", h.Epoch, mark, h.TrainLoss, h.ValidationLoss, h.ValidationRMSE, h.ValidationMAE, h.Seconds)
	}
	pf("\n![loss](%s)\n\n![errors](%s)\n\nPredictions for the %s split: `%s`.\n", LossChartFile, ErrorChartFile, s.PredictionsSplit, PredictionsFile)
	renderDrugEffects(w, s)
}

// shrinkSentence says which analytes kept their learned change after training.
func shrinkSentence(shrink map[string]float64) string {
	var dropped []string
	for name, f := range shrink {
		if f == 0 {
			dropped = append(dropped, name)
		}
	}
	sort.Strings(dropped)
	const why = "did not lower the validation error with any one validation subject left out"
	switch len(dropped) {
	case 0:
		return "After training, every analyte keeps its learned change, scaled by the factor that fits validation best."
	case len(shrink):
		return "After training, no analyte keeps its learned change: none " + why + ", so the model predicts post = pre (the training mean where pre is missing)."
	}
	return fmt.Sprintf("After training, %d of %d analytes keep their learned change, scaled by the factor that fits validation best; these predict post = pre because their change %s: %s.",
		len(shrink)-len(dropped), len(shrink), why, strings.Join(dropped, ", "))
}

// linearSentence says for which analytes the linear base stayed (model.Config.LinearBase).
func linearSentence(kept map[string]bool, penalty float64) string {
	var on []string
	for name, k := range kept {
		if k {
			on = append(on, name)
		}
	}
	sort.Strings(on)
	if len(on) == 0 {
		return "The linear base (a ridge regression of the change) lowered no analyte's validation error with any one validation subject left out, so the network starts from post = pre everywhere."
	}
	return fmt.Sprintf("The linear base (a ridge regression of the change, penalty %g, fitted on the training split) stays for %d of %d analytes, where it lowers the validation error with any one validation subject left out: %s.",
		penalty, len(on), len(kept), strings.Join(on, ", "))
}
