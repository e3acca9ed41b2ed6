package mimic

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// synthDir writes a generated MIMIC copy for a test.
func synthDir(t testing.TB, opt SynthOptions) (string, *SynthInfo) {
	t.Helper()
	dir := t.TempDir()
	info, err := WriteSynth(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return dir, info
}

// TestSynthReadsBack: generated MIMIC-IV and -III folders are detected and read, every
// group's pairs lie within the windows and admission, and the generator's potassium
// chloride effect shows in the pairs.
func TestSynthReadsBack(t *testing.T) {
	for _, v := range []string{SynthIV, SynthIII} {
		t.Run(v, func(t *testing.T) {
			dir, info := synthDir(t, SynthOptions{Version: v, Subjects: 60, Seed: 3})
			ok, err := Format{}.Detect(context.Background(), dir, pipeline.ReadOptions{})
			if err != nil || !ok {
				t.Fatalf("Detect = %v, %v; want true", ok, err)
			}
			ds, rep, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Pairs.LabRows != info.LabRows {
				t.Fatalf("read %d lab rows, wrote %d", rep.Pairs.LabRows, info.LabRows)
			}
			if got := rep.Pairs.Format; got != v {
				t.Fatalf("format %s, want %s", got, v)
			}
			if rep.Pairs.CrossAdmission != 0 {
				t.Fatalf("%d cross-admission values", rep.Pairs.CrossAdmission)
			}
			if pipeline.CountSubjects(ds.Samples) < 55 {
				t.Fatalf("%d subjects with samples, want most of 60", pipeline.CountSubjects(ds.Samples))
			}
			for _, a := range rep.Pairs.Analytes {
				if a.PreHours.Max > 24 || a.PostHours.Max > 24 {
					t.Fatalf("%s: gaps beyond 24 h: %+v %+v", a.Analyte, a.PreHours, a.PostHours)
				}
			}
			if rep.DoseRanges == 0 || rep.MissingDoses == 0 || rep.Pairs.UnparsedDoses == 0 {
				t.Fatalf("doses: %d ranges, %d missing, %d unparsed; the generator writes all three", rep.DoseRanges, rep.MissingDoses, rep.Pairs.UnparsedDoses)
			}
		})
	}
}

// TestSynthKClEffect: the mean potassium change is larger in groups with potassium
// chloride than without, by about the generator's effect.
func TestSynthKClEffect(t *testing.T) {
	dir, _ := synthDir(t, SynthOptions{Subjects: 300, Seed: 5, LabRows: 300 * 400})
	ds, _, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kcl := pipeline.EmbedText(drugText("Potassium Chloride", "IV"), ds.Layout.EmbeddingDim)
	kclPO := pipeline.EmbedText(drugText("Potassium Chloride", "PO"), ds.Layout.EmbeddingDim)
	var with, without [2]float64
	for _, s := range ds.Samples {
		if !s.PreObserved[0] || !s.PostObserved[0] {
			continue
		}
		has := false
		for r := 0; r < s.NumRx(); r++ {
			e := s.Embeddings[r]
			if slices.Equal(e, kcl) || slices.Equal(e, kclPO) {
				has = true
			}
		}
		d := float64(s.Post[0] - s.Pre[0])
		if has {
			with[0] += d
			with[1]++
		} else {
			without[0] += d
			without[1]++
		}
	}
	mw, mo := with[0]/with[1], without[0]/without[1]
	t.Logf("potassium change: %.3f with KCl (%v groups), %.3f without (%v)", mw, with[1], mo, without[1])
	if with[1] < 50 || mw-mo < 0.1 || math.IsNaN(mw) {
		t.Fatalf("KCl effect %.3f - %.3f; want a clear rise", mw, mo)
	}
}
