package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// serveOpts are the options a prediction server reads requests with.
func serveOpts() ReadOptions {
	return ReadOptions{Request: RequestOptions{
		Layout:              &Layout{Analytes: []string{"ph", "pco2", "baseexcess"}, EmbeddingDim: 4, BlockRows: 3, BlockFeatures: 6},
		AllowMissingTargets: true,
		Strict:              true,
		MaxGroupRows:        2,
		EmbedDrug: func(name string) ([]float32, error) {
			if name == "unembeddable" {
				return nil, errors.New("names not accepted")
			}
			return EmbedText(name, 4), nil
		},
		CheckUnit: func(u string) error {
			if u == "mg" || u == "7" {
				return nil
			}
			return fmt.Errorf("unknown unit %q", u)
		},
	}}
}

func TestReadTable(t *testing.T) {
	const head = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx"
	tests := []struct {
		name string
		csv  string
		opt  ReadOptions
		want []Sample
	}{
		{"training options, same as ReadTables", "", ReadOptions{}, nil}, // body: testdata/final_small.csv
		{"pre columns only, layout order", head + ",pre_baseexcess,pre_ph,P0,P1,P2,P3\n" +
			"1,2125-01-01T08:00:00,60,7.0,-1,7.3,1,2,3,4\n1,2125-01-01,325-650,mg,-1,7.3,0,0,0,-1\n", serveOpts(),
			[]Sample{{Subject: "1", Start: "2125-01-01", Pre: []float32{7.3, 0, 0}, PreObserved: []bool{true, false, false},
				Post: []float32{0, 0, 0}, PostObserved: []bool{false, false, false},
				Embeddings: EmbeddingRows([]float32{1, 2, 3, 4, 0, 0, 0, -1}, 4), Doses: []float32{60, 487.5}, Units: []string{"7", "mg"}}}},
		{"no analyte columns, no subject: a case per row", "prescription_dose_val_rx,prescription_dose_unit_rx,prescription_drug\n1,mg, Heparin \n,mg,Heparin\n", serveOpts(),
			[]Sample{
				{Subject: "row1", Pre: make([]float32, 3), PreObserved: make([]bool, 3), Post: make([]float32, 3), PostObserved: make([]bool, 3),
					Embeddings: EmbeddingRows(EmbedText("Heparin", 4), 4), Doses: []float32{1}, Units: []string{"mg"}},
				{Subject: "row2", Pre: make([]float32, 3), PreObserved: make([]bool, 3), Post: make([]float32, 3), PostObserved: make([]bool, 3),
					Embeddings: EmbeddingRows(EmbedText("Heparin", 4), 4), Doses: []float32{nan32()}, Units: []string{"mg"}},
			}},
		{"raw names: -1 is a value; targets and chart times read but optional", head + ",prescription_drug,pre_charttime,pre_ph,post_ph\n" +
			"1,2125-01-01,1,mg,Heparin,2125-01-01,-1,7.4\n", serveOpts(),
			[]Sample{{Subject: "1", Start: "2125-01-01", Pre: []float32{-1, 0, 0}, PreObserved: []bool{true, false, false},
				Post: []float32{7.4, 0, 0}, PostObserved: []bool{true, false, false},
				Embeddings: EmbeddingRows(EmbedText("Heparin", 4), 4), Doses: []float32{1}, Units: []string{"mg"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.csv == "" {
				b, err := os.ReadFile("testdata/final_small.csv")
				if err != nil {
					t.Fatal(err)
				}
				want, _ := readOne(t, ReadOptions{}, "testdata/final_small.csv")
				tc.csv, tc.want = string(b), want.Samples
			}
			ds, rep, err := ReadTable(context.Background(), "req", strings.NewReader(tc.csv), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			assertSamplesEqual(t, tc.want, ds.Samples)
			if len(ds.Sources) != 1 || ds.Sources[0].Path != "req" || rep.Files != 1 {
				t.Fatalf("sources %+v, files %d", ds.Sources, rep.Files)
			}
			if tc.opt.Request.Layout != nil && ds.Layout.BlockRows != tc.opt.Request.Layout.BlockRows {
				t.Fatalf("layout %+v, want the given %+v", ds.Layout, *tc.opt.Request.Layout)
			}
		})
	}
}

func TestReadTableErrors(t *testing.T) {
	const head = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,prescription_drug"
	tests := []struct {
		name string
		csv  string
		opt  ReadOptions
		want string
	}{
		{"empty", "", serveOpts(), "req:1:1: empty file"},
		{"header only", head + "\n", serveOpts(), "req:2:1: no rows after the header"},
		{"training rejects missing targets", head + ",pre_ph\n1,2125-01-01,1,mg,a,7\n", ReadOptions{},
			"req:1:6: column pre_ph has no matching post_ph"},
		{"training rejects a table without analytes", "prescription_dose_val_rx,prescription_drug\n1,a\n", ReadOptions{},
			"req:1:1: unrecognised table"},
		{"post without pre", head + ",post_ph\n1,2125-01-01,1,mg,a,7\n", serveOpts(), "req:1:6: column post_ph has no matching pre_ph"},
		{"unknown analyte", head + ",pre_lactat\n1,2125-01-01,1,mg,a,7\n", serveOpts(),
			`req:1:6: column pre_lactat names unknown analyte "lactat"; expected one of ph, pco2, baseexcess`},
		{"unknown column", head + ",route\n1,2125-01-01,1,mg,a,iv\n", serveOpts(), `req:1:6: unknown column "route"`},
		{"unknown column tolerated without Strict", head + ",route,pre_ph\n1,2125-01-01,1,mg,a,iv,7\n1,2125-01-01,1,mg,a,iv,8\n",
			ReadOptions{Request: RequestOptions{AllowMissingTargets: true}}, ""},
		{"two drug sources", head + ",P0,P1,P2,P3\n1,2125-01-01,1,mg,a,1,2,3,4\n", serveOpts(), "req:1:1: more than one drug source"},
		{"P columns wider than the layout", "prescription_dose_val_rx,P0,P1,P2,P3,P4\n1,1,2,3,4,5\n", serveOpts(),
			"req:1:1: embedding width 5 differs from 4 in the given layout"},
		{"embedding string shorter than the layout", "prescription_dose_val_rx,rx_embedding\n1,[1 2 3]\n", serveOpts(),
			"req:2:3: column rx_embedding: expected an embedding of 4 values, got 3"},
		{"empty drug", head + "\n1,2125-01-01,1,mg, \n", serveOpts(), "req:2:19: column prescription_drug: expected a drug name, got an empty cell"},
		{"embedder refuses", head + "\n1,2125-01-01,1,mg,unembeddable\n", serveOpts(), "req:2:19: column prescription_drug: names not accepted"},
		{"unknown unit", head + "\n1,2125-01-01,1,mg,a\n1,2125-01-01,1,mcg,a\n", serveOpts(),
			`req:3:16: column prescription_dose_unit_rx: unknown unit "mcg"`},
		{"no unit column", "prescription_dose_val_rx,prescription_drug\n1,a\n", serveOpts(),
			`req:2:0: column prescription_dose_unit_rx: unknown unit ""`},
		{"group disagrees on pre", head + ",pre_pco2,pre_ph\n1,2125-01-01,1,mg,a,40,7.3\n1,2125-01-01T10:00,1,mg,b,40,7.4\n", serveOpts(),
			`req:3:30: column pre_ph: "7.4" differs from line 2 of the same group; expected one pre-treatment test per group`},
		{"group disagrees on post", head + ",pre_ph,post_ph\n1,2125-01-01,1,mg,a,7.3,7.2\n1,2125-01-01,1,mg,b,7.3,\n", serveOpts(),
			`req:3:25: column post_ph: "" differs from line 2 of the same group; expected one post-treatment test per group`},
		{"group too large", head + "\n1,2125-01-01,1,mg,a\n1,2125-01-01,1,mg,b\n2,2125-01-01,1,mg,c\n1,2125-01-01,1,mg,d\n", serveOpts(),
			"req:5:1: group (1, 2125-01-01) has more than 2 prescriptions; expected at most 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadTable(context.Background(), "req", strings.NewReader(tc.csv), tc.opt)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// Without Strict, a disagreeing group is counted and its first row's values kept, as in
// training; MaxBadRows skips an over-long group's extra row instead of failing.
func TestReadTableTolerant(t *testing.T) {
	const body = "subject_id,prescription_start,prescription_dose_val_rx,prescription_drug,pre_ph\n" +
		"1,2125-01-01,1,a,7.3\n1,2125-01-01,2,b,7.4\n1,2125-01-01,3,c,7.3\n"
	ds, rep, err := ReadTable(context.Background(), "req", strings.NewReader(body),
		ReadOptions{Request: RequestOptions{AllowMissingTargets: true, MaxGroupRows: 2}, MaxBadRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Samples) != 1 || ds.Samples[0].Pre[0] != 7.3 || ds.Samples[0].NumRx() != 2 {
		t.Fatalf("samples %+v", ds.Samples)
	}
	if rep.InconsistentGroups != 1 || rep.RowsRejected != 1 || rep.RejectReasons[ClassGroupSize] != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestReadTableCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ReadTable(ctx, "req", strings.NewReader("a\n"), ReadOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// FuzzReadTableRequest feeds arbitrary tables, header included, through the serving
// options: no panic on absent columns, and every error one line naming the table.
func FuzzReadTableRequest(f *testing.F) {
	f.Add("prescription_dose_val_rx,prescription_dose_unit_rx,prescription_drug\n1,mg,a\n")
	f.Add("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_pco2,P0,P1,P2,P3\n1,2125-01-01,1,7,-1,,1,2,3,4\n")
	f.Add("subject_id,prescription_start,dose,unit,drug,pre_ph,post_ph,pre_baseexcess\n1,2125-01-01,1,mg,a,7,7,\n1,2125-01-01,1,mg,a,7,,\n1,2125-01-01,1,mg,b,7,7,\n")
	f.Fuzz(func(t *testing.T, body string) {
		ds, _, err := ReadTable(context.Background(), "req", strings.NewReader(body), serveOpts())
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "req:") {
				t.Fatalf("error %q is not one line naming the table", msg)
			}
			return
		}
		for _, s := range ds.Samples {
			if !rowsOf(s.Embeddings, 4) || len(s.Embeddings) != s.NumRx() || s.NumRx() > 2 || len(s.Pre) != 3 || len(s.Post) != 3 {
				t.Fatalf("malformed sample %+v", s)
			}
		}
	})
}
