package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readOne(t *testing.T, opt ReadOptions, inputs ...string) (*Dataset, *Report) {
	t.Helper()
	ds, rep, err := ReadTables(context.Background(), inputs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return ds, rep
}

func nan32() float32 { return float32(math.NaN()) }

func TestReadFinalTable(t *testing.T) {
	ds, rep := readOne(t, ReadOptions{}, "testdata/final_small.csv")
	if got, want := ds.Layout.Analytes, []string{"ph", "baseexcess", "glucose"}; !slices.Equal(got, want) {
		t.Fatalf("analytes %v, want %v", got, want)
	}
	if ds.Layout.EmbeddingDim != 4 || ds.Layout.BlockFeatures != 6 || ds.Layout.BlockRows != DefaultBlockRows {
		t.Fatalf("layout %+v", ds.Layout)
	}
	want := []Sample{
		{Subject: "1", Start: "2125-10-05",
			Pre: []float32{7.30, -2.5, 0}, PreObserved: []bool{true, true, false},
			// base excess has other negative values, so its -1.0 is a value (issue 10)
			Post: []float32{7.31, -1, 140}, PostObserved: []bool{true, true, true},
			Embeddings: EmbeddingRows([]float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, 4),
			Doses:      []float32{60, 100}, Units: []string{"7", "10"}},
		{Subject: "1", Start: "2125-10-07",
			Pre: []float32{7.40, 0, 120}, PreObserved: []bool{true, true, true},
			Post: []float32{7.35, 1.5, 0}, PostObserved: []bool{true, true, false},
			Embeddings: EmbeddingRows([]float32{-0.1, -0.2, -0.3, -0.4}, 4), Doses: []float32{5}, Units: []string{"7"}},
		{Subject: "2", Start: "2125-10-05",
			Pre: []float32{7.20, -5, 90}, PreObserved: []bool{true, true, true},
			Post: []float32{7.25, -4, 95}, PostObserved: []bool{true, true, true},
			Embeddings: EmbeddingRows([]float32{0.01, 0.2, 0, 0}, 4), Doses: []float32{nan32()}, Units: []string{"13"}},
	}
	assertSamplesEqual(t, want, ds.Samples)
	if rep.RowsRead != 4 || rep.Groups != 3 || rep.Subjects != 2 || rep.Prescriptions != 4 || rep.MissingDoses != 1 || rep.LargestGroup != 2 {
		t.Fatalf("report %+v", rep)
	}
	if m := rep.MissingRate[2]; math.Abs(m.Pre-1.0/3) > 1e-9 || math.Abs(m.Post-1.0/3) > 1e-9 {
		t.Fatalf("glucose missing rate %+v, want 1/3 and 1/3", m)
	}
	if len(ds.Sources) != 1 || ds.Sources[0].Rows != 4 || len(ds.Sources[0].SHA256) != 64 {
		t.Fatalf("sources %+v", ds.Sources)
	}
	st, _ := os.Stat("testdata/final_small.csv")
	if ds.Sources[0].Bytes != st.Size() {
		t.Fatalf("source bytes %d, file has %d", ds.Sources[0].Bytes, st.Size())
	}
}

func TestReadEmbeddingStringTable(t *testing.T) {
	ds, _ := readOne(t, ReadOptions{}, "testdata/embstr_small.csv")
	want := []Sample{
		{Subject: "1", Start: "2125-10-05", Pre: []float32{7.3}, PreObserved: []bool{true}, Post: []float32{7.4}, PostObserved: []bool{true},
			Embeddings: EmbeddingRows([]float32{0.35, -0.12, 0.001, 4, 0.1, 0.2, 0.3, 0.4}, 4), Doses: []float32{1, 2}, Units: []string{"mg", "mg"}},
		{Subject: "2", Start: "2125-10-06", Pre: []float32{0}, PreObserved: []bool{false}, Post: []float32{7.1}, PostObserved: []bool{true},
			Embeddings: EmbeddingRows([]float32{0.5, 0.5, 0.5, 0.5}, 4), Doses: []float32{3}, Units: []string{"ml"}},
	}
	assertSamplesEqual(t, want, ds.Samples)
	if ds.Layout.EmbeddingDim != 4 {
		t.Fatalf("embedding dim %d, want 4", ds.Layout.EmbeddingDim)
	}
}

func TestReadRawTable(t *testing.T) {
	ds, rep := readOne(t, ReadOptions{EmbeddingDim: 16}, "testdata/raw_small.csv")
	acet := EmbedText("Acetaminophen", 16)
	vaso := EmbedText("Vasopressin", 16)
	want := []Sample{
		// raw tables use empty cells for missing values: -1.0 is a real base excess
		{Subject: "10", Start: "2125-01-01", Pre: []float32{-1, 0}, PreObserved: []bool{true, false}, Post: []float32{0, 101}, PostObserved: []bool{false, true},
			Embeddings: EmbeddingRows(append(append([]float32{}, acet...), vaso...), 16), Doses: []float32{487.5, 100}, Units: []string{"mg", "UNIT"}},
		{Subject: "11", Start: "2125-01-01", Pre: []float32{2, 3}, PreObserved: []bool{true, true}, Post: []float32{4, 5}, PostObserved: []bool{true, true},
			Embeddings: EmbeddingRows(make([]float32, 16), 16), Doses: []float32{nan32()}, Units: []string{"ml"}},
	}
	assertSamplesEqual(t, want, ds.Samples)
	if rep.DoseRanges != 1 || rep.MissingDoses != 1 || rep.MissingDrugs != 1 {
		t.Fatalf("report ranges %d missing doses %d missing drugs %d, want 1 1 1", rep.DoseRanges, rep.MissingDoses, rep.MissingDrugs)
	}
}

func TestReadTableWithoutIDs(t *testing.T) {
	ds, rep := readOne(t, ReadOptions{}, "testdata/noids_small.csv")
	want := []Sample{
		{Subject: "row1", Pre: []float32{0.5}, PreObserved: []bool{true}, Post: []float32{0}, PostObserved: []bool{false},
			Embeddings: EmbeddingRows([]float32{0.2, 0.3}, 2), Doses: []float32{0.1}, Units: []string{"3"}},
		{Subject: "row2", Pre: []float32{0}, PreObserved: []bool{false}, Post: []float32{0.6}, PostObserved: []bool{true},
			Embeddings: EmbeddingRows([]float32{0.1, 0.1}, 2), Doses: []float32{0.2}, Units: []string{"3"}},
	}
	assertSamplesEqual(t, want, ds.Samples)
	if rep.Subjects != 2 {
		t.Fatalf("subjects %d, want 2", rep.Subjects)
	}
	// with several files, row keys carry the file name so they stay unique
	other := filepath.Join(t.TempDir(), "other.csv")
	b, _ := os.ReadFile("testdata/noids_small.csv")
	os.WriteFile(other, append(b, '\n'), 0o644) // another table: the same one twice is refused (W2)
	ds2, _ := readOne(t, ReadOptions{}, "testdata/noids_small.csv", other)
	if len(ds2.Samples) != 4 || ds2.Samples[0].Subject != "testdata/noids_small.csv:row1" || ds2.Samples[3].Subject != other+":row2" {
		t.Fatalf("two files: %d samples, first subject %q", len(ds2.Samples), ds2.Samples[0].Subject)
	}
}

func TestReadSeparateTablesJoin(t *testing.T) {
	tests := []struct {
		name               string
		gap                float64
		starts             []string
		noPre, noPost      int
		firstPre, firstPos []float32
	}{
		{"no gap limit", 0, []string{"2125-01-10", "2125-03-01"}, 1, 1, []float32{7.32, 0}, []float32{7.40, 110}},
		{"ten day gap", 10, []string{"2125-01-10"}, 1, 2, []float32{7.32, 0}, []float32{7.40, 110}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, rep := readOne(t, ReadOptions{MaxGapDays: tc.gap, EmbeddingDim: 8}, "testdata/join_rx.csv", "testdata/join_blood.csv")
			var starts []string
			for _, s := range ds.Samples {
				starts = append(starts, s.Start)
			}
			if !slices.Equal(starts, tc.starts) {
				t.Fatalf("groups %v, want %v", starts, tc.starts)
			}
			if rep.GroupsWithoutPre != tc.noPre || rep.GroupsWithoutPost != tc.noPost {
				t.Fatalf("without pre %d post %d, want %d %d", rep.GroupsWithoutPre, rep.GroupsWithoutPost, tc.noPre, tc.noPost)
			}
			s := ds.Samples[0]
			if !equalF32(s.Pre, tc.firstPre, s.PreObserved) || s.PreObserved[1] || !equalF32(s.Post, tc.firstPos, nil) {
				t.Fatalf("first group pre %v %v post %v", s.Pre, s.PreObserved, s.Post)
			}
			if s.NumRx() != 2 || s.Doses[0] != 5000 || s.Doses[1] != 10 {
				t.Fatalf("first group doses %v", s.Doses)
			}
			if !slices.Equal(ds.Layout.Analytes, []string{"ph", "glucose"}) {
				t.Fatalf("analytes %v", ds.Layout.Analytes)
			}
		})
	}
	if _, _, err := ReadTables(context.Background(), []string{"testdata/join_rx.csv"}, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "without a blood-test table") {
		t.Fatalf("prescriptions alone: %v", err)
	}
}

func TestReadDirectoryAndGzip(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/final_small.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(filepath.Join(dir, "a.csv"), []byte(strings.Join(lines[:3], "")), 0o644)
	os.WriteFile(filepath.Join(dir, "b.csv.gz"), gzipBytes(t, []byte(lines[0]+strings.Join(lines[3:], ""))), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	ds, rep := readOne(t, ReadOptions{}, dir)
	whole, _ := readOne(t, ReadOptions{}, "testdata/final_small.csv")
	assertSamplesEqual(t, whole.Samples, ds.Samples)
	if rep.Files != 2 {
		t.Fatalf("files %d, want 2", rep.Files)
	}
}

func TestReadLayoutMismatch(t *testing.T) {
	_, _, err := ReadTables(context.Background(), []string{"testdata/final_small.csv", "testdata/embstr_small.csv"}, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "embstr_small.csv:1:1: analytes") {
		t.Fatalf("err = %v", err)
	}
}
