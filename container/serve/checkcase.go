package serve

import (
	"fmt"
	"math"

	"github.com/blueblood/blueblood/pipeline"
)

// checkSamples is the one check of a parsed case's values, whatever the body's
// encoding (JSON, JSON Lines or CSV): finite magnitudes within the training
// table's bound, and doses that are missing or not negative.
func checkSamples(lm *loadedModel, req *request) error {
	for i := range req.samples {
		s := &req.samples[i]
		for a, obs := range s.PreObserved {
			if obs && !inBound(s.Pre[a]) {
				return fmt.Errorf("%s: %v; expected a finite number of magnitude at most 1e9", req.field(i, "pre."+lm.layout.Analytes[a]), s.Pre[a])
			}
		}
		for r, row := range s.Embeddings {
			for k, v := range row {
				if !inBound(v) {
					return fmt.Errorf("%s: %v; expected a finite number of magnitude at most 1e9", req.field(i, fmt.Sprintf("prescriptions[%d].embedding[%d]", r, k)), v)
				}
			}
		}
		for j, d := range s.Doses {
			if math.IsNaN(float64(d)) {
				continue // missing
			}
			if d < 0 || !inBound(d) {
				return fmt.Errorf("%s: %v; expected a non-negative number of magnitude at most 1e9", req.field(i, fmt.Sprintf("prescriptions[%d].dose", j)), d)
			}
		}
	}
	return nil
}

func inBound(v float32) bool {
	f := float64(v)
	return !math.IsNaN(f) && f <= pipeline.MaxMagnitude && f >= -pipeline.MaxMagnitude
}
