package cli

import (
	"fmt"
	"io"

	"github.com/blueblood/blueblood/model"
)

// sliceFlag collects --slice DRUG[=ANALYTE].
type sliceFlag []model.Slice

func (f *sliceFlag) String() string { return fmt.Sprint(*f) }

func (f *sliceFlag) Set(v string) error {
	s, err := model.ParseSlice(v)
	if err != nil {
		return err
	}
	*f = append(*f, s)
	return nil
}

// writeAnalyteTable prints every method's score per analyte: RMSE in standard units
// and MAE in original units, pooled over the folds' test cells.
func writeAnalyteTable(w io.Writer, res *model.CVResult) {
	fmt.Fprintf(w, "\nPer analyte, pooled over the folds' test cells: RMSE in standard units (MAE in original units)\n\n")
	fmt.Fprintf(w, "| analyte | targets | model | ridge | post_equals_pre | train_mean | model / post_equals_pre |\n|---|---:|---|---|---|---|---:|\n")
	for _, a := range res.PerAnalyte {
		if a.Targets == 0 {
			continue
		}
		cell := func(m string) string { return fmt.Sprintf("%.3f (%.3g)", a.RMSE[m], a.MAE[m]) }
		ratio := ""
		if p := a.RMSE[model.MethodPersistence]; p > 0 {
			ratio = fmt.Sprintf("%.3f", a.RMSE[model.MethodModel]/p)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", a.Analyte, a.Targets, cell(model.MethodModel), cell(model.MethodRidge),
			cell(model.MethodPersistence), cell(model.MethodTrainMean), ratio)
	}
}

// writeSliceTable prints each drug slice: MAE on its analyte in original units and the
// change the model predicts the drug causes there.
func writeSliceTable(w io.Writer, res *model.CVResult) {
	if len(res.Slices) == 0 {
		return
	}
	fmt.Fprintf(w, "\nDrug slices: the test groups with the drug, scored on its analyte (MAE in original units); the model's predicted change with the drug's rows against without them; and what the data shows: the observed change with the drug minus without it at equal pre value, over all test groups with both values (an association, not a causal effect)\n\n")
	fmt.Fprintf(w, "| drug | analyte | groups | targets | model | ridge | post_equals_pre | model / post_equals_pre | predicted change | rises | observed, at equal pre |\n|---|---|---:|---:|---|---|---|---:|---|---:|---|\n")
	for _, s := range res.Slices {
		ratio := ""
		if p := s.MAE[model.MethodPersistence]; p > 0 {
			ratio = fmt.Sprintf("%.3f", s.MAE[model.MethodModel]/p)
		}
		observed := "n/a"
		if s.ObservedEffect != nil {
			observed = fmt.Sprintf("%+.3g", *s.ObservedEffect)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.3g | %.3g | %.3g | %s | %+.3g | %.0f%% | %s (%d groups) |\n", s.Drug, s.Analyte, s.Cases, s.Targets,
			s.MAE[model.MethodModel], s.MAE[model.MethodRidge], s.MAE[model.MethodPersistence], ratio, s.EffectMean, 100*s.EffectPositiveShare,
			observed, s.ObservedGroups)
	}
}
