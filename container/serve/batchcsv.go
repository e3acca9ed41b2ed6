package serve

import (
	"fmt"
	"io"
)

// writeBatchCSV answers a CSV body under batch transform: one line per line of the body,
// so SageMaker's assembled .out file joins its input line by line. A data row gets the
// prediction of its group (its subject_id and prescription date within this request);
// a header line gets the answer's header line, so a header appears only where the input
// had one, never inside the assembled file.
//
// The rule for groups: the rows of one (subject, prescription date) group are one case
// when they arrive in one request. SplitType None sends each file whole (up to
// MaxPayloadInMB), so every group stays together; SplitType Line packs whole lines into
// requests and may cut a group apart, and each part is then predicted on its own. Send
// cases with several prescriptions as JSON Lines (one case per line) to be safe.
func writeBatchCSV(w io.Writer, lm *loadedModel, req *request, preds [][]float32) error {
	if len(req.rowSamples) == 0 && len(preds) > 0 {
		return fmt.Errorf("batch CSV: no row-to-group map for %d groups", len(preds))
	}
	return writeAnswerCSV(w, lm, req, preds, req.csvHeader, req.rowSamples)
}
