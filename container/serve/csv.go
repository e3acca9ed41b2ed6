package serve

import (
	"bytes"
	"context"

	"github.com/blueblood/blueblood/pipeline"
)

// parseCSV reads a body in the final-table format with pipeline's table reader, so a row
// sent to the endpoint means what the same row meant in training (aliases, -1 as missing
// only beside embeddings, dose ranges as midpoints, unit codes, groups by subject and date
// of prescription_start). The reader is set to the model: its analytes (any may be
// absent), its embedding width, its embedder and unit vocabulary, its prescription
// limit, no targets needed, and unknown columns or disagreeing group rows as errors.
// Errors name the body's line and column (body:line:col).
func parseCSV(ctx context.Context, body []byte, lm *loadedModel) (*request, error) {
	ds, _, err := pipeline.ReadTable(ctx, "body", bytes.NewReader(body), lm.csvOptions)
	if err != nil {
		return nil, err
	}
	req := &request{csv: true, samples: ds.Samples, ids: make([]string, len(ds.Samples)), starts: make([]string, len(ds.Samples))}
	for i := range ds.Samples {
		req.ids[i], req.starts[i] = ds.Samples[i].Subject, ds.Samples[i].Start
	}
	return req, nil
}

// csvOptions are the reader options for lm's requests.
func csvOptions(lm *loadedModel) pipeline.ReadOptions {
	return pipeline.ReadOptions{
		Layout:              &lm.layout,
		AllowMissingTargets: true,
		Strict:              true,
		MaxGroupRows:        lm.maxRx,
		EmbedDrug:           lm.m.EmbedDrug,
		CheckUnit:           func(u string) error { return checkUnit(lm, u) },
	}
}
