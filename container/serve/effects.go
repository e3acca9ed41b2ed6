package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// Explainer is implemented by models that can say what each prescription row of a case
// does to its predicted post values (model.Model.Effects).
type Explainer interface {
	Effects(cases []pipeline.Sample, doseScale float64) ([]model.CaseEffects, error)
}

// Effects answers the "effects" option of a JSON request.
func (t *trained) Effects(cases []pipeline.Sample, doseScale float64) ([]model.CaseEffects, error) {
	return t.m.Effects(cases, doseScale)
}

// MaxEffectCases bounds the cases of one request that ask for effects: a case with n
// prescription rows costs up to 2n+1 predictions, and n is at most model.MaxEffectRows.
const MaxEffectCases = 64

// effectsOpt is a JSON request's "effects" option: {"effects": {"dose_scale": 2}} asks,
// beside each answer, for the prediction without each prescription row and with each
// row's dose scaled by 2; {"effects": {}} for the rows alone.
type effectsOpt struct {
	DoseScale *float64 `json:"dose_scale"`
}

// scale is the dose factor asked for; 1 (no scaled variant) when none was.
func (o *effectsOpt) scale() (float64, error) {
	if o.DoseScale == nil {
		return 1, nil
	}
	if s := *o.DoseScale; !(s >= 0) || s > 1000 || math.IsInf(s, 0) {
		return 0, fmt.Errorf("effects.dose_scale: %v; expected a number in [0, 1000]", s)
	}
	return *o.DoseScale, nil
}

// RowEffect is what one prescription row does to a case's prediction, in original units.
type RowEffect struct {
	Row  int    `json:"row"`
	Drug string `json:"drug,omitempty"` // as the request named it; empty for embeddings
	// Without is the prediction without this row; Change is the answer's post minus it.
	Without Values `json:"without"`
	Change  Values `json:"change"`
	// WithScaledDose is the prediction with this row's dose times DoseScale; absent when
	// no scale was asked for or the row has no dose.
	DoseScale      float64 `json:"dose_scale,omitempty"`
	WithScaledDose *Values `json:"with_scaled_dose,omitempty"`
}

// explain computes the effects a request asked for, in request order, bounded as
// documented. Input errors are *badRequest.
func explain(ctx context.Context, lm *loadedModel, req *request, scale float64) ([][]RowEffect, error) {
	ex, ok := lm.m.(Explainer)
	if !ok {
		return nil, &badRequest{"effects: this model cannot explain its predictions"}
	}
	if len(req.samples) > MaxEffectCases {
		return nil, &badRequest{fmt.Sprintf("effects: %d cases; at most %d per request ask for effects", len(req.samples), MaxEffectCases)}
	}
	for i := range req.samples {
		if n := req.samples[i].NumRx(); n == 0 || n > model.MaxEffectRows {
			return nil, &badRequest{fmt.Sprintf("%s: effects: %d prescriptions; expected 1 to %d", req.label(i), n, model.MaxEffectRows)}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	effs, err := ex.Effects(req.samples, scale)
	if err != nil {
		return nil, err
	}
	if len(effs) != len(req.samples) {
		return nil, errors.New("model returned effects for another number of cases")
	}
	names := lm.layout.Analytes
	out := make([][]RowEffect, len(effs))
	for c, e := range effs {
		rows := make([]RowEffect, len(e.Without))
		for i := range rows {
			change := make([]float32, len(names))
			for j := range change {
				change[j] = e.Effect(i, j)
			}
			r := RowEffect{Row: i, Without: Values{Names: names, Vals: e.Without[i]}, Change: Values{Names: names, Vals: change}}
			if c < len(req.drugs) && i < len(req.drugs[c]) {
				r.Drug = req.drugs[c][i]
			}
			if e.Scaled != nil && e.Scaled[i] != nil {
				r.DoseScale = scale
				r.WithScaledDose = &Values{Names: names, Vals: e.Scaled[i]}
			}
			rows[i] = r
		}
		out[c] = rows
	}
	return out, nil
}

// Explain answers body (a request in any content type /invocations takes) with each
// case's prediction and the effects of its prescription rows, dose scaled by doseScale:
// the server's parsing and checks, run in process, for `launcher explain`.
func Explain(ctx context.Context, m Model, contentType string, body []byte, doseScale float64) (*Response, error) {
	lm, err := newLoadedModel(m)
	if err != nil {
		return nil, err
	}
	mediaType, err := requestType(contentType)
	if err != nil {
		return nil, err
	}
	opt := effectsOpt{DoseScale: &doseScale}
	if _, err := opt.scale(); err != nil {
		return nil, err
	}
	req, preds, err := work(ctx, lm, mediaType, body, &opt)
	if err != nil {
		return nil, err
	}
	resp := jsonResponse(lm, req, preds)
	return &resp, nil
}

// drugNames is each row's drug as the request named it; nil when every row came as an
// embedding.
func drugNames(rxs []rxT) []string {
	var out []string
	for i, rx := range rxs {
		if rx.Drug == nil {
			continue
		}
		if out == nil {
			out = make([]string, len(rxs))
		}
		out[i] = strings.TrimSpace(*rx.Drug)
	}
	return out
}
