package pipeline

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

	// Embeddings holds NumRx rows of Layout.EmbeddingDim values, row-major.
	Embeddings []float32
	Doses      []float32 // one per prescription row, original units (NaN = missing)
	Units      []string  // one per prescription row: unit text or numeric code as text
}

// NumRx is the number of prescription rows in the sample.
func (s *Sample) NumRx() int { return len(s.Doses) }
