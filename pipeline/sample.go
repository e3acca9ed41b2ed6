package pipeline

import (
	"fmt"
	"math"
	"slices"
)

// Layout is the feature layout discovered from a table's headers. It is written into
// the dataset manifest and into the model, and both must agree before training or
// prediction.
type Layout struct {
	// Analytes are the blood values, named without their pre_/post_ prefix, in header order
	// (25 for the original project's tables, but discovered, not assumed).
	Analytes []string `json:"analytes"`
	// EmbeddingDim is the width of a drug embedding (128 for P0..P127).
	EmbeddingDim int `json:"embedding_dim"`
	// BlockRows and BlockFeatures are the padded block of the seed's (3, rows, features)
	// tensor: 20 and 130 by default (EmbeddingDim + dose + unit = 130).
	BlockRows     int `json:"block_rows"`
	BlockFeatures int `json:"block_features"`
	// MinusOneReal lists the analytes whose -1.0 is a real value in tables that use -1.0
	// as the missing code, as the training data or the missing-code setting decided
	// (minusone.go: base excess's -1 is as frequent as its -2 and 0; glucose's -1.0 is a
	// point mass). Reading against a layout (serving) applies its list, not the data's.
	MinusOneReal []string `json:"minus_one_real,omitempty"`
	// Units are the analytes' units, in Analytes' order, where the input names them
	// (native MIMIC tables); absent in older layouts.
	Units []string `json:"units,omitempty"`
}

// RxFeatures is the width of one scaled prescription row: embedding, dose, unit feature.
func (l Layout) RxFeatures() int { return l.EmbeddingDim + 2 }

// Sample is one (subject, prescription date) group in original units, stored compactly:
// no padding. Scaling happens through a Scaler fitted on the training split.
type Sample struct {
	Subject string `json:"subject"` // subject id; a row index for tables without ids
	Start   string `json:"start"`   // the group's prescription date (YYYY-MM-DD) or a row key

	Pre          []float32 // len(Layout.Analytes); meaningless where !PreObserved
	PreObserved  []bool
	Post         []float32 // the target
	PostObserved []bool    // the mask: only observed targets are trained on or scored

	// Embeddings holds one row of Layout.EmbeddingDim values per prescription row. Readers
	// give all rows of one drug the same shared slice (a few hundred drugs, a million
	// samples), so rows are read-only: replace a row, never write into it.
	Embeddings [][]float32
	Doses      []float32 // one per prescription row, original units (NaN = missing)
	Units      []string  // one per prescription row: unit text or numeric code as text
	// Drugs names each prescription row's drug where the table gave a name (nil when it
	// gave embeddings only): reports name drugs with it; the network never reads it.
	Drugs []string
}

// addDrug names the row just appended (Drugs stays nil while no row has a name, and
// rows before the first named one get "").
func (s *Sample) addDrug(name string) {
	if name == "" && s.Drugs == nil {
		return
	}
	for len(s.Drugs) < s.NumRx()-1 {
		s.Drugs = append(s.Drugs, "")
	}
	s.Drugs = append(s.Drugs, name)
}

// NumRx is the number of prescription rows in the sample.
func (s *Sample) NumRx() int { return len(s.Doses) }

// DiffSamples reports the first difference between two sample lists, or nil. Values
// compare exactly (NaN equals NaN) and pre/post values only where observed: a prepared
// dataset or an S3 round trip must give back exactly the samples written. It is a test
// aid, exported because the tests of this package and of pipeline/s3store share it and
// an internal test package cannot serve both (this package's tests would import it back).
func DiffSamples(want, got []Sample) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d samples, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := &want[i], &got[i]
		if w.Subject != g.Subject || w.Start != g.Start {
			return fmt.Errorf("sample %d is %s/%s, want %s/%s", i, g.Subject, g.Start, w.Subject, w.Start)
		}
		if !equalF32(w.Pre, g.Pre, w.PreObserved) || !equalF32(w.Post, g.Post, w.PostObserved) ||
			!slices.Equal(w.PreObserved, g.PreObserved) || !slices.Equal(w.PostObserved, g.PostObserved) {
			return fmt.Errorf("sample %d (%s/%s): pre/post differ", i, w.Subject, w.Start)
		}
		if !slices.EqualFunc(w.Embeddings, g.Embeddings, func(a, b []float32) bool { return equalF32(a, b, nil) }) ||
			!equalF32(w.Doses, g.Doses, nil) || !slices.Equal(w.Units, g.Units) {
			return fmt.Errorf("sample %d (%s/%s): prescriptions differ", i, w.Subject, w.Start)
		}
	}
	return nil
}

// equalF32 compares exactly (NaN equals NaN), only where mask is true when mask is given.
func equalF32(a, b []float32, mask []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if mask != nil && !mask[i] {
			continue
		}
		if a[i] != b[i] && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
			return false
		}
	}
	return true
}

// CountSubjects is the number of distinct subjects in s.
func CountSubjects(s []Sample) int {
	seen := map[string]bool{}
	for i := range s {
		seen[s[i].Subject] = true
	}
	return len(seen)
}
