package model

import (
	"context"
	"slices"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// TestScaledRowsMatchScaler: a scaled sample's prescription rows (the shared embedding row
// plus its dose/unit features) are exactly what Scaler.RxRow writes, the staging the
// graph had when scaled copied every row, on the bundled synthetic table; and scaling
// into a reused scaled (training's per-batch slots) gives what a fresh one gets.
func TestScaledRowsMatchScaler(t *testing.T) {
	ds, _, err := pipeline.ReadTables(context.Background(), []string{"../pipeline/testdata/synthetic.csv.gz"}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := pipeline.FitScaler(ds.Samples, ds.Layout)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{LSTMUnits: 4, EncoderUnits: 4, Layout: ds.Layout}, sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	rxf := ds.Layout.RxFeatures()
	want, got := make([]float32, rxf), make([]float32, rxf)
	var slot scaled
	rows := 0
	// largest groups first, so the reused slot also shrinks
	order := make([]int, len(ds.Samples))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return ds.Samples[b].NumRx() - ds.Samples[a].NumRx() })
	for _, i := range order {
		smp := &ds.Samples[i]
		fresh, err := m.scaleSample(i, smp, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.scaleInto(&slot, i, smp, true); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*scaled{fresh, &slot} {
			if s.n != smp.NumRx() {
				t.Fatalf("sample %d: %d rows, want %d", i, s.n, smp.NumRx())
			}
			for r := 0; r < s.n; r++ {
				sc.RxRow(smp, r, want)
				clear(got)
				s.rxRow(r, got)
				if !slices.Equal(got, want) {
					t.Fatalf("sample %d row %d: scaled row %v, Scaler.RxRow %v", i, r, got[rxf-4:], want[rxf-4:])
				}
				if &s.emb[r][0] != &smp.Embeddings[r][0] {
					t.Fatalf("sample %d row %d: the embedding was copied, not shared", i, r)
				}
				rows++
			}
		}
		if !slices.Equal(fresh.pre, slot.pre) || !slices.Equal(fresh.preObs, slot.preObs) ||
			!slices.Equal(fresh.post, slot.post) || !slices.Equal(fresh.postMask, slot.postMask) {
			t.Fatalf("sample %d: a reused slot scales differently from a fresh one", i)
		}
		for j := range smp.Pre {
			if smp.PreObserved[j] && fresh.pre[j] != sc.ScaleAnalyte(j, smp.Pre[j]) {
				t.Fatalf("sample %d: pre %d is %v, want %v", i, j, fresh.pre[j], sc.ScaleAnalyte(j, smp.Pre[j]))
			}
		}
	}
	if rows < 1000 {
		t.Fatalf("only %d rows checked", rows)
	}
}
