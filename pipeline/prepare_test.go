package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPrepareSynthetic(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "prepared")
	opt := PrepareOptions{Inputs: []string{"testdata/synthetic_small.csv"}, Output: out, Seed: 5, MaxPrescriptions: 20}
	sum, err := Prepare(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	all, rep := readOne(t, ReadOptions{}, "testdata/synthetic_small.csv")
	if sum.Read.Groups != rep.Groups || sum.GroupsOverLimit != rep.GroupsOver20 || sum.GroupsOverLimit == 0 {
		t.Fatalf("summary groups %d over %d; read %d over %d", sum.Read.Groups, sum.GroupsOverLimit, rep.Groups, rep.GroupsOver20)
	}
	if sum.Layout.BlockRows != 20 || sum.Layout.BlockFeatures != 130 {
		t.Fatalf("layout %+v", sum.Layout)
	}
	owner := map[string]string{}
	samples, rows := 0, 0
	var scalers []*Scaler
	var train []Sample
	for _, sp := range sum.Splits {
		ds, sc, err := ReadPrepared(ctx, filepath.Join(out, sp.Name), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Samples) != sp.Samples || len(ds.Samples) == 0 {
			t.Fatalf("%s: %d samples, summary %d", sp.Name, len(ds.Samples), sp.Samples)
		}
		for _, s := range ds.Samples {
			if o, ok := owner[s.Subject]; ok && o != sp.Name {
				t.Fatalf("subject %s in %s and %s", s.Subject, o, sp.Name)
			}
			owner[s.Subject] = sp.Name
			if s.NumRx() > 20 {
				t.Fatalf("%s: a sample has %d rows after truncation", sp.Name, s.NumRx())
			}
			rows += s.NumRx()
		}
		samples += len(ds.Samples)
		scalers = append(scalers, sc)
		if sp.Name == "train" {
			train = ds.Samples
		}
	}
	if samples != len(all.Samples) || rows != rep.Prescriptions-sum.TruncatedPrescriptions {
		t.Fatalf("%d samples %d rows written; read %d samples %d rows, %d truncated", samples, rows, len(all.Samples), rep.Prescriptions, sum.TruncatedPrescriptions)
	}
	// every split carries the scaler fitted on the training split alone
	want, _ := FitScaler(train, sum.Layout)
	whole, _ := FitScaler(all.Samples, sum.Layout)
	for _, sc := range scalers {
		if !reflect.DeepEqual(sc, want) {
			t.Fatal("stored scaler is not the one fitted on the training split")
		}
	}
	if reflect.DeepEqual(want.Mean, whole.Mean) {
		t.Fatal("training-only and all-data scalers agree; the test cannot tell them apart")
	}
	var js Summary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || json.Unmarshal(b, &js) != nil || js.Read.Groups != sum.Read.Groups {
		t.Fatalf("summary.json: %v", err)
	}
	var sb strings.Builder
	if err := sum.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"rows read:", "rows rejected:", "groups:", "train:", "validation:", "test:", "prescriptions truncated", "missing rate per analyte"} {
		if !strings.Contains(sb.String(), w) {
			t.Errorf("summary text lacks %q:\n%s", w, sb.String())
		}
	}
	// same seed, same split; a rerun replaces the earlier output
	sum2, err := Prepare(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum.Splits, sum2.Splits) {
		t.Fatalf("rerun split differs: %+v vs %+v", sum.Splits, sum2.Splits)
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Fatalf("rerun left %d entries beside the output", len(ents))
	}
}

func TestPrepareSplitPolicyAndOptions(t *testing.T) {
	ctx := context.Background()
	sum, err := Prepare(ctx, PrepareOptions{Inputs: []string{"testdata/synthetic_small.csv"}, Output: filepath.Join(t.TempDir(), "o"),
		MaxPrescriptions: 20, OverflowPolicy: "split", Fractions: [3]float64{0.8, 0.1, 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sp := range sum.Splits {
		total += sp.Samples
	}
	if sum.SplitExtraSamples == 0 || total != sum.Read.Groups+sum.SplitExtraSamples || sum.TruncatedPrescriptions != 0 {
		t.Fatalf("split: %d samples for %d groups + %d extra, truncated %d", total, sum.Read.Groups, sum.SplitExtraSamples, sum.TruncatedPrescriptions)
	}
	bad := []struct {
		opt  PrepareOptions
		want string
	}{
		{PrepareOptions{Inputs: []string{"testdata/final_small.csv"}}, "no output"},
		{PrepareOptions{Inputs: []string{"testdata/final_small.csv"}, Output: "x", Fractions: [3]float64{0.5, 0.2, 0.2}}, "sum to 0.9"},
		{PrepareOptions{Inputs: []string{"testdata/final_small.csv"}, Output: "x", Fractions: [3]float64{1.2, -0.2, 0}}, "fraction validation"},
		{PrepareOptions{Inputs: []string{"testdata/final_small.csv"}, Output: "x", OverflowPolicy: "drop"}, "overflow policy"},
		{PrepareOptions{Inputs: []string{"testdata/final_small.csv"}, Output: "x", MaxPrescriptions: -1}, "max prescriptions"},
		{PrepareOptions{Inputs: []string{"train=testdata/final_small.csv", "testdata/raw_small.csv"}, Output: "x"}, "mix"},
		{PrepareOptions{Inputs: []string{"tran=testdata/final_small.csv"}, Output: "x"}, "expected train=, validation= or test="},
		{PrepareOptions{Inputs: []string{"train=testdata/final_small.csv", "test=testdata/final_small.csv"}, Output: "x"}, "subject 1 appears in both"},
	}
	for _, tc := range bad {
		if _, err := Prepare(ctx, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.opt, err, tc.want)
		}
	}
}

func TestPreparePreSplit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, _ := os.ReadFile("testdata/final_small.csv")
	lines := strings.SplitAfter(string(b), "\n")
	trainP := filepath.Join(dir, "train.csv")
	testP := filepath.Join(dir, "test.csv")
	os.WriteFile(trainP, []byte(strings.Join(lines[:4], "")), 0o644)         // subject 1
	os.WriteFile(testP, []byte(lines[0]+strings.Join(lines[4:], "")), 0o644) // subject 2
	out := filepath.Join(dir, "out")
	sum, err := Prepare(ctx, PrepareOptions{Inputs: []string{"train=" + trainP, "test=" + testP}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.PreSplit || sum.Splits[0].Samples != 2 || sum.Splits[1].Samples != 0 || sum.Splits[2].Samples != 1 || sum.Read.Groups != 3 || sum.Read.Files != 2 {
		t.Fatalf("pre-split summary %+v", sum.Splits)
	}
	ds, _, err := ReadPrepared(ctx, filepath.Join(out, "validation"), ReadOptions{})
	if err != nil || len(ds.Samples) != 0 {
		t.Fatalf("empty validation split: %v, %v", ds, err)
	}
}

// TestSharedData runs Prepare on the original project's files when they are present
// (they are never copied into the repository).
func TestSharedData(t *testing.T) {
	dir := os.Getenv("BLUEBLOOD_SHARED_DATA")
	if dir == "" {
		dir = "../../shared/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "blue-blood-final.csv")); err != nil {
		t.Skipf("original data not found in %s (set BLUEBLOOD_SHARED_DATA)", dir)
	}
	ctx := context.Background()
	tests := []struct {
		file                     string
		groups, subjects, over20 int
		rows                     int
	}{
		// the done-when figures
		{"blue-blood-final.csv", 281, 33, 24, 2182},
		// tables without ids: every row its own sample
		{"final_data_april22.csv", 2182, 2182, 0, 2182},
		{"synthetic_data_750.csv", 750, 750, 0, 750},
		{"sample-final-data.csv", 4, 4, 0, 50},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			sum, err := Prepare(ctx, PrepareOptions{Inputs: []string{filepath.Join(dir, tc.file)}, Output: filepath.Join(t.TempDir(), "out"), MaxPrescriptions: 20, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := sum.Read
			if r.Groups != tc.groups || r.Subjects != tc.subjects || r.GroupsOver20 != tc.over20 || sum.GroupsOverLimit != tc.over20 || r.RowsRead != tc.rows || r.RowsRejected != 0 {
				t.Fatalf("groups %d subjects %d over20 %d (limit %d) rows %d rejected %d; want %d %d %d rows %d",
					r.Groups, r.Subjects, r.GroupsOver20, sum.GroupsOverLimit, r.RowsRead, r.RowsRejected, tc.groups, tc.subjects, tc.over20, tc.rows)
			}
			if len(sum.Layout.Analytes) != 25 || sum.Layout.EmbeddingDim != 128 || sum.Layout.BlockFeatures != 130 {
				t.Fatalf("layout %+v", sum.Layout)
			}
		})
	}
}
