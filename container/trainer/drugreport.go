package trainer

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// effectsShown is how many analytes report.md names per drug: those the drug moves most,
// in standard deviations of the training split.
const effectsShown = 4

// renderDrugEffects writes the learned-effects table: per frequent training drug, the
// analytes whose predicted change is largest, as prescribed and at the typical dose.
func renderDrugEffects(w io.Writer, s *Summary) {
	if len(s.DrugEffects) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## What the model learned each drug does\n\nFor the %d drugs most often prescribed in training: the mean change in the predicted post value when the drug's row is in the case against when it is left out, over the %s split's cases that have the drug (original units; `launcher explain` gives it per case). \"typical\" sets the row's dose to the drug's median training dose. The %d analytes the drug moves most, in training standard deviations, are shown; metrics.json (`drug_effects`) has every analyte.\n\n", len(s.DrugEffects), s.PredictionsSplit, effectsShown)
	fmt.Fprintf(w, "| drug | training rows | cases | typical dose | largest predicted changes (as prescribed; typical) |\n|---|---:|---:|---:|---|\n")
	for _, e := range s.DrugEffects {
		order := make([]int, len(e.Mean))
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Compare(math.Abs(e.MeanStd[b]), math.Abs(e.MeanStd[a]))
		})
		var parts []string
		for _, j := range order[:min(effectsShown, len(order))] {
			p := fmt.Sprintf("%s %+.3g", s.Data.Analytes[j], e.Mean[j])
			if e.MeanTypical != nil {
				p += fmt.Sprintf("; %+.3g", e.MeanTypical[j])
			}
			parts = append(parts, p)
		}
		dose := ""
		if e.MeanTypical != nil {
			dose = strings.TrimSpace(fmt.Sprintf("%g %s", e.TypicalDose, e.Unit))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s |\n", strings.ReplaceAll(e.Drug, "|", "/"), e.TrainRows, e.Cases, dose, strings.Join(parts, ", "))
	}
}
