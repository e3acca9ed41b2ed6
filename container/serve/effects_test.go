package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/model"
)

// withEffects adds the "effects" option to a {"cases": [...]} body.
func withEffects(body []byte, opt string) []byte {
	return append([]byte(`{"effects":`+opt+`,`), bytes.TrimPrefix(body, []byte("{"))...)
}

// TestEffectsOption: a JSON request with "effects" gets, per case and row, the model's
// prediction without that row and with its dose scaled, and the change, exactly as
// model.Effects computes them; requests without the option get no effects.
func TestEffectsOption(t *testing.T) {
	dir, m := trainTiny(t, model.ArchPooledResidual)
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	cases := tinySamples(4, 8, 42)
	for i := range cases {
		cases[i].Post, cases[i].PostObserved = nil, nil
	}
	want, err := m.Effects(cases, 2)
	if err != nil {
		t.Fatal(err)
	}
	a := post(t, ts.url, "application/json", withEffects(jsonCases(t, cases), `{"dose_scale": 2}`))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	r := decodeJSON(t, a.body)
	for c, p := range r.Predictions {
		if len(p.Effects) != cases[c].NumRx() {
			t.Fatalf("case %d: %d row effects for %d rows", c, len(p.Effects), cases[c].NumRx())
		}
		for i, e := range p.Effects {
			if e.Row != i || fmt.Sprint(e.Without.Vals) != fmt.Sprint(want[c].Without[i]) {
				t.Fatalf("case %d row %d: without %v, want %v", c, i, e.Without.Vals, want[c].Without[i])
			}
			for j := range e.Change.Vals {
				if e.Change.Vals[j] != p.Post.Vals[j]-e.Without.Vals[j] {
					t.Fatalf("case %d row %d: change %v is not post - without", c, i, e.Change.Vals)
				}
			}
			if e.WithScaledDose == nil || e.DoseScale != 2 || fmt.Sprint(e.WithScaledDose.Vals) != fmt.Sprint(want[c].Scaled[i]) {
				t.Fatalf("case %d row %d: scaled %+v, want %v", c, i, e.WithScaledDose, want[c].Scaled[i])
			}
		}
	}
	if a := post(t, ts.url, "application/json", jsonCases(t, cases)); a.status != http.StatusOK || bytes.Contains(a.body, []byte(`"effects"`)) {
		t.Errorf("a request without the option: status %d, body %s", a.status, a.body)
	}

	bad := []struct{ body, want string }{
		{string(withEffects(jsonCases(t, cases), `{"dose_scale": -1}`)), "effects.dose_scale"},
		{string(withEffects(jsonCases(t, cases), `{"scale": 2}`)), "effects"},
		{string(withEffects(jsonCases(t, tinySamples(serve.MaxEffectCases+1, 8, 1)), `{}`)), fmt.Sprintf("at most %d", serve.MaxEffectCases)},
	}
	for _, b := range bad {
		a := post(t, ts.url, "application/json", []byte(b.body))
		if a.status != http.StatusBadRequest || !strings.Contains(a.errorText(t), b.want) {
			t.Errorf("status %d, error %s; want 400 naming %q", a.status, a.body, b.want)
		}
	}
}

// TestEffectsNamesDrugsAndNeedsAnExplainer: drug names come back with their rows, and a
// model that cannot explain answers 400, not a prediction without effects.
func TestEffectsNamesDrugsAndNeedsAnExplainer(t *testing.T) {
	dir, _ := trainTiny(t, model.ArchPooledResidual)
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)
	body := `{"effects": {}, "cases": [{"pre": {"ph": 7.3}, "prescriptions": [` +
		`{"drug": " Potassium Chloride ", "dose": 20, "unit": "mg"}, {"drug": "Insulin", "dose": 4, "unit": "UNIT"}]}]}`
	a := post(t, ts.url, "application/json", []byte(body))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	r := decodeJSON(t, a.body)
	e := r.Predictions[0].Effects
	if len(e) != 2 || e[0].Drug != "Potassium Chloride" || e[1].Drug != "Insulin" || e[0].WithScaledDose != nil {
		t.Fatalf("effects %+v: want both drugs named and no scaled dose", e)
	}
	fake := startLoaded(t, newFake())
	a = post(t, fake.url, "application/json", []byte(`{"effects": {}, "cases": [{"pre": {}, "prescriptions": [{"drug": "a", "dose": 1, "unit": "mg"}]}]}`))
	if a.status != http.StatusBadRequest || !strings.Contains(a.errorText(t), "cannot explain") {
		t.Errorf("a model without effects: status %d, %s", a.status, a.body)
	}
}

// TestExplainReadsEveryContentType: Explain (launcher explain's engine) reads CSV as the
// server does and answers with effects for every group.
func TestExplainReadsEveryContentType(t *testing.T) {
	dir, m := trainTiny(t, model.ArchPooledResidual)
	loaded, err := serve.LoadDir(dir)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cases := tinySamples(3, 8, 5)
	want, err := m.Effects(cases, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ct   string
		body []byte
	}{{"text/csv", csvCases(cases, 8)}, {"application/json", jsonCases(t, cases)}} {
		r, err := serve.Explain(context.Background(), loaded, c.ct, c.body, 0.5)
		if err != nil {
			t.Fatalf("%s: %v", c.ct, err)
		}
		for i, p := range r.Predictions {
			if len(p.Effects) != cases[i].NumRx() || fmt.Sprint(p.Effects[0].WithScaledDose.Vals) != fmt.Sprint(want[i].Scaled[0]) {
				t.Fatalf("%s case %d: effects %+v", c.ct, i, p.Effects)
			}
		}
	}
	if _, err := serve.Explain(context.Background(), loaded, "text/csv", []byte("subject_id\n1\n"), 1); err == nil {
		t.Error("a body without prescriptions was explained")
	}
}

// TestJSONDrugNamesReachTheModel: a JSON row's drug name reaches the model with the row
// (trimmed), as the CSV readers name rows: a model with learned drugs finds them by name.
func TestJSONDrugNamesReachTheModel(t *testing.T) {
	fake := newFake()
	ts := startLoaded(t, fake)
	a := post(t, ts.url, "application/json", []byte(`{"pre": {}, "prescriptions": [`+
		`{"drug": " Potassium Chloride (PO) ", "dose": 20, "unit": "mg"}, {"drug": "Insulin", "dose": 4, "unit": "mg"}]}`))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	seen := fake.lastSeen()
	if len(seen) != 1 || !slices.Equal(seen[0].Drugs, []string{"Potassium Chloride (PO)", "Insulin"}) {
		t.Fatalf("the model saw drugs %q, want both rows named", seen[0].Drugs)
	}
}
