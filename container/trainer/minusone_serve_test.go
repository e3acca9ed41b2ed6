package trainer

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/serve"
)

// minusOneTable is a training table in the original format with the three shapes of
// issue #20: glucose 80% -1.0 with a few stray negative values (the code), base excess in
// whole units with real -1s among -2 and 0 (its missing cells empty), intubated never
// filled (all -1.0); ph uses the code and is never negative.
func minusOneTable(groups int) string {
	r := rand.New(rand.NewPCG(20, 20))
	var b strings.Builder
	b.WriteString("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx," +
		"pre_ph,pre_baseexcess,pre_glucose,pre_intubated,post_ph,post_baseexcess,post_glucose,post_intubated,P0,P1\n")
	strays := 0
	cell := func(name string) string {
		switch name {
		case "ph":
			if r.Float64() < 0.3 {
				return "-1.0"
			}
			return fmt.Sprintf("%.2f", 7.38+0.08*r.NormFloat64())
		case "baseexcess":
			if r.Float64() < 0.2 {
				return ""
			}
			return fmt.Sprint(math.Round(3*r.NormFloat64()) + 0)
		case "glucose":
			if r.Float64() < 0.8 {
				return "-1.0"
			}
			if strays < 4 && r.Float64() < 0.05 {
				strays++
				return fmt.Sprint(-math.Round(10 + 100*r.Float64()))
			}
			return fmt.Sprint(math.Round(140 + 30*r.NormFloat64()))
		default:
			return "-1.0"
		}
	}
	for g := range groups {
		fmt.Fprintf(&b, "%d,2125-%02d-%02dT08:00:00,%d,mg", 100+g/2, 1+g%12, 1+g%28, 1+r.IntN(50))
		for range 2 {
			for _, a := range []string{"ph", "baseexcess", "glucose", "intubated"} {
				b.WriteString("," + cell(a))
			}
		}
		fmt.Fprintf(&b, ",%.3f,%.3f\n", r.NormFloat64(), r.NormFloat64())
	}
	return b.String()
}

// trainMinusOne trains a small model on minusOneTable with the given missing_code and
// returns a loaded server for it.
func trainMinusOne(t *testing.T, missingCode string) (*serve.Server, *Summary) {
	t.Helper()
	root := copyFixture(t, "basic")
	train := filepath.Join(root, "input", "data", "train")
	os.Remove(filepath.Join(train, "synthetic.csv"))
	if err := os.WriteFile(filepath.Join(train, "t.csv"), []byte(minusOneTable(160)), 0o644); err != nil {
		t.Fatal(err)
	}
	setHyperparameters(t, root, map[string]string{"epochs": "1", "lstm_units": "2", "encoder_units": "2",
		"test_fraction": "0", "missing_code": missingCode})
	res := runTrain(t, context.Background(), root, nil)
	if res.err != nil {
		t.Fatalf("Train: %v\nstderr:\n%s", res.err, res.stderr)
	}
	srv := serve.New(serve.LoadDir(filepath.Join(root, "model")))
	if err := srv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return srv, readSummary(t, root)
}

// predictPost sends one request row (pre values by analyte; absent ones empty) and
// returns the predicted post values by analyte.
func predictPost(t *testing.T, srv *serve.Server, pre map[string]string) map[string]float64 {
	t.Helper()
	body := "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,pre_baseexcess,pre_glucose,pre_intubated,P0,P1\n" +
		fmt.Sprintf("1,2125-01-01T08:00:00,10,mg,%s,%s,%s,%s,0.1,-0.2\n", pre["ph"], pre["baseexcess"], pre["glucose"], pre["intubated"])
	req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("invocation: %d %s", rec.Code, rec.Body.String())
	}
	rows, err := csv.NewReader(bytes.NewReader(rec.Body.Bytes())).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("response %s: %v", rec.Body.String(), err)
	}
	post := map[string]float64{}
	for i, h := range rows[0] {
		if a, ok := strings.CutPrefix(h, "post_"); ok {
			if post[a], err = strconv.ParseFloat(rows[1][i], 64); err != nil {
				t.Fatalf("response %s: %v", rec.Body.String(), err)
			}
		}
	}
	return post
}

// TestServingReadsMinusOneAsTrained: a model trained on each shape serves requests
// reading -1.0 as training did, from the decision recorded in its layout: the same
// prediction for -1.0 and an empty cell where -1.0 was the code (glucose despite its
// stray negatives, intubated that was all -1.0), a different one where -1 is a value
// (base excess); and missing_code=glucose=value carries into serving too.
func TestServingReadsMinusOneAsTrained(t *testing.T) {
	base := map[string]string{"ph": "7.35", "baseexcess": "2", "glucose": "150", "intubated": ""}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, x := range base {
			m[a] = x
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		setting   string
		valueIn   []string // analytes whose -1 must change the prediction
		missingIn []string // analytes whose -1.0 must read as an empty cell
	}{
		{"auto", []string{"baseexcess"}, []string{"glucose", "intubated", "ph"}},
		{"glucose=value", []string{"baseexcess", "glucose"}, []string{"intubated", "ph"}},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			srv, sum := trainMinusOne(t, tc.setting)
			if len(sum.Data.Warnings) != 0 {
				t.Errorf("warnings on an unambiguous table: %v", sum.Data.Warnings)
			}
			for _, a := range append(slices.Clone(tc.valueIn), tc.missingIn...) {
				minus, empty := predictPost(t, srv, with(a, "-1.0")), predictPost(t, srv, with(a, ""))
				same := minus[a] == empty[a]
				if slices.Contains(tc.valueIn, a) && same {
					t.Errorf("%s: -1 predicts %v like an empty cell; the model was trained with -1 as a value", a, minus[a])
				}
				if slices.Contains(tc.missingIn, a) && !same {
					t.Errorf("%s: -1.0 predicts %v, an empty cell %v; the model was trained with -1.0 as missing", a, minus[a], empty[a])
				}
			}
		})
	}
}
