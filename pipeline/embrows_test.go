package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// checkShared fails unless rows of equal value are one shared slice (as many distinct
// slices as distinct values) and every sample's slices are capped at their length.
func checkShared(t *testing.T, samples []Sample) {
	t.Helper()
	byValue := map[string]*float32{}
	rows := 0
	for i := range samples {
		s := &samples[i]
		for _, e := range s.Embeddings {
			rows++
			key := string(f32Bytes(e))
			if p, ok := byValue[key]; ok && p != &e[0] {
				t.Fatalf("sample %d: two copies of one embedding %v", i, e[:min(4, len(e))])
			}
			byValue[key] = &e[0]
		}
		if cap(s.Pre) != len(s.Pre) || cap(s.Post) != len(s.Post) || cap(s.Doses) != len(s.Doses) ||
			cap(s.Embeddings) != len(s.Embeddings) || cap(s.Units) != len(s.Units) || cap(s.PreObserved) != len(s.PreObserved) {
			t.Fatalf("sample %d: a slice has spare capacity (not compacted)", i)
		}
	}
	if rows == 0 || len(byValue) >= rows {
		t.Fatalf("%d rows, %d distinct embeddings: the test needs repeated drugs", rows, len(byValue))
	}
}

func TestReadersShareEmbeddingRows(t *testing.T) {
	for _, inputs := range [][]string{
		{"testdata/synthetic.csv.gz"}, // P0..P127 columns
		{"raw"},                       // drug names, embedded (written below)
		{"testdata/join_rx.csv", "testdata/join_blood.csv"}, // prescriptions + blood tests
	} {
		t.Run(inputs[0], func(t *testing.T) {
			if inputs[0] == "raw" {
				inputs[0] = filepath.Join(t.TempDir(), "raw.csv")
				raw := "subject_id,prescription_start,prescription_drug,prescription_dose_val_rx,prescription_dose_unit_rx,pre_charttime,pre_glucose,post_charttime,post_glucose\n" +
					"10,2125-01-01,Heparin,1,mg,2124-12-31,90,2125-01-02,101\n10,2125-01-01,Vasopressin,1,UNIT,2124-12-31,90,2125-01-02,101\n" +
					"11,2125-01-01,Heparin,2,mg,2124-12-31,92,2125-01-02,95\n"
				if err := os.WriteFile(inputs[0], []byte(raw), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ds, _ := readOne(t, ReadOptions{EmbeddingDim: 8}, inputs...)
			checkShared(t, ds.Samples)
		})
	}
}

func TestPreparedRoundTripSharesRows(t *testing.T) {
	ds, _ := readOne(t, ReadOptions{}, "testdata/synthetic.csv.gz")
	dst := t.TempDir()
	if err := WritePrepared(t.Context(), dst, ds, nil, ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadPrepared(t.Context(), dst, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertSamplesEqual(t, ds.Samples, got.Samples)
	byValue := map[string]*float32{}
	for i := range got.Samples {
		for _, e := range got.Samples[i].Embeddings {
			key := string(f32Bytes(e))
			if p, ok := byValue[key]; ok && p != &e[0] {
				t.Fatalf("sample %d: a prepared dataset's repeated embedding is read as two copies", i)
			}
			byValue[key] = &e[0]
		}
	}
}

func TestEmbeddingSetIsBounded(t *testing.T) {
	var set embeddingSet
	for i := 0; i < maxSharedEmbeddings+10; i++ {
		set.share([]float32{float32(i)})
	}
	if len(set.rows) != maxSharedEmbeddings {
		t.Fatalf("set holds %d rows, want at most %d", len(set.rows), maxSharedEmbeddings)
	}
	v := []float32{float32(maxSharedEmbeddings + 5)}
	a, b := set.share(v), set.share(v)
	if !slices.Equal(a, v) || !slices.Equal(b, v) {
		t.Fatalf("past the bound rows must still be copies of the value: %v %v", a, b)
	}
	v[0] = -1
	if a[0] == -1 {
		t.Fatal("share kept the caller's slice")
	}
	if s := set.share([]float32{3}); &s[0] != &set.share([]float32{3})[0] {
		t.Fatal("a value in the set is not shared")
	}
}

func TestLimitRowsKeepsSamplesWhenNoneOver(t *testing.T) {
	in := []Sample{groupOf("a", 3, 2), groupOf("b", 5, 2)}
	out, n, err := LimitRows(in, 5, PolicySplit)
	if err != nil || n != 0 || &out[0] != &in[0] {
		t.Fatalf("LimitRows under the cap copied or changed the samples: %v %d", err, n)
	}
}

// TestCompactionKeepsLateRows: a group whose rows are not adjacent gets its late row even
// after the reader compacted it (more than compactChunk groups later), and its
// neighbours in the slab are untouched.
func TestCompactionKeepsLateRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n")
	groups := compactChunk + 50
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "%d,2125-10-05T00:00:00,%d,mg,7.3,7.4,%d,1\n", g, g, g%7)
	}
	b.WriteString("0,2125-10-05T09:00:00,99,ml,7.3,7.4,5,1\n") // group 0's second row, last
	path := filepath.Join(t.TempDir(), "late.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, _ := readOne(t, ReadOptions{}, path)
	if len(ds.Samples) != groups {
		t.Fatalf("%d samples, want %d", len(ds.Samples), groups)
	}
	s0 := ds.Samples[0]
	if s0.NumRx() != 2 || s0.Doses[1] != 99 || s0.Units[1] != "ml" || s0.Embeddings[1][0] != 5 || len(s0.Embeddings) != 2 {
		t.Fatalf("group 0 %v %v %v", s0.Doses, s0.Units, s0.Embeddings)
	}
	for g := 1; g < groups; g++ {
		s := ds.Samples[g]
		if s.NumRx() != 1 || s.Doses[0] != float32(g) || s.Units[0] != "mg" || s.Embeddings[0][0] != float32(g%7) {
			t.Fatalf("group %d changed: %v %v %v", g, s.Doses, s.Units, s.Embeddings)
		}
	}
	checkShared(t, ds.Samples)
}
