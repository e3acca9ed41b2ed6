// Package serve is the trainer image's SageMaker hosting contract: an HTTP server that
// loads a trained model from /opt/ml/model and answers predictions.
//
// # Endpoints
//
//   - GET /ping: 200 with an empty body once the model is loaded, 503 before. It does no
//     work per call (SageMaker polls it every few seconds with a 2 s timeout).
//   - POST /invocations: predictions, as JSON or CSV (below).
//   - GET /execution-parameters: the batch-transform hints SageMaker asks for.
//
// # JSON (Content-Type: application/json)
//
// A request holds one or many cases. Each case has pre-treatment values by analyte name
// (any may be left out or null: missing) and its prescriptions, each with a drug
// embedding (exactly the model's embedding width) or a drug name (turned into an
// embedding by the built-in text embedder), a dose in original units (null: missing) and
// a dose unit (text such as "mg", or the table's numeric code). A model whose training
// table's header is stored takes drugs only as that table gave them: names for a table
// of drug names, embeddings for P0..Pn or an embedding column (400 otherwise):
//
//	{"cases": [{"id": "patient-1",
//	            "pre": {"ph": 7.3, "pco2": 63},
//	            "prescriptions": [{"drug": "Vasopressin", "dose": 100, "unit": "UNIT"},
//	                              {"embedding": [0.1, ...], "dose": 60, "unit": 7}]}]}
//
// A bare case object (without "cases") or a JSON array of cases is accepted too. The
// answer gives, per case, the predicted post-treatment value of every analyte the model
// knows, in original units and in the model's analyte order, with the model version (a
// content hash of the model's own files, model.json, weights.bin and input-header.csv,
// whatever else sits in the folder):
//
//	{"model_version": "...", "analytes": ["ph", ...],
//	 "predictions": [{"id": "patient-1", "post": {"ph": 7.31, ...}}]}
//
// # JSON Lines (Content-Type: application/jsonlines)
//
// One case object per line (batch transform's SplitType Line), answered with one line
// per case in the same order: {"id": "patient-1", "post": {"ph": 7.31, ...}}.
//
// # CSV (Content-Type: text/csv)
//
// Rows in the final-table format the trainer reads, read by the trainer's own table
// reader (pipeline.ReadTable): one row per prescription, grouped by (subject_id, date of
// prescription_start); without subject_id every row is its own case. Columns: the dose
// (prescription_dose_val_rx: a number, a range "325-650" read as its midpoint, or empty)
// and its unit (prescription_dose_unit_rx); the drug as P0..P{dim-1}, one embedding
// string column or prescription_drug; pre_<analyte> for any of the model's analytes.
// post_* columns (optional) and chart times are not inputs, so a training table can be
// sent as it is. Empty cells are missing, and -1 is read as training read it (missing,
// except for analytes whose -1 was a real value). Unknown columns and rows disagreeing with their group's pre values are
// errors. A body whose first line names none of the training table's columns is rows
// without a header (batch transform's SplitType Line, the Python SDK's CSVSerializer):
// they are read in the column order of the table the model was trained on, whose header
// the trainer stores beside the model (input-header.csv; a model without one refuses them
// saying the header line is missing). The answer is CSV with one row per group:
// subject_id, prescription_start (the group's date), then post_<analyte> for every
// analyte; under batch transform (SAGEMAKER_BATCH=true) one row per input line instead,
// each with its group's prediction (writeBatchCSV states the rule for groups). The model version is in the X-Model-Version header
// (set on JSON answers too), so the body stays a plain table.
//
// The answer always has the request's format; Accept and other headers SageMaker passes
// along are ignored.
//
// # Limits
//
// Bodies over 6 MB (SAGEMAKER_MAX_PAYLOAD_IN_MB) get 413. A case may have as many
// prescriptions as the model was trained with (the seed network's 20-row block, or the
// trainer's max_prescriptions; 256 when training set no limit). Requests are admitted
// before their bodies are read: at most 64 at once (BLUEBLOOD_SERVE_MAX_INFLIGHT), each
// charged 8 bytes per body byte against a 256 MB memory budget
// (BLUEBLOOD_SERVE_MEMORY_MB); a request that does not fit gets 503 with Retry-After at
// once. Admitted requests are decoded and predicted GOMAXPROCS at a time
// (SAGEMAKER_MODEL_SERVER_WORKERS), 64 cases per model call; when the client goes, or
// 50 s have passed (503), the work stops at the next call. /ping does no work and waits
// for nothing. /execution-parameters tells batch transform the body limit and how many
// payloads of that size run at once within the budget.
//
// # Errors
//
// Every error answer is JSON {"error": "..."}. Wrong or missing content type: 415.
// Malformed body: 400 naming the field (cases[2].prescriptions[0].dose, line 3:
// prescriptions[0].dose) or CSV line and column (body:3:8: column pre_ph: ...). An
// analyte or unit the model does not know: 400 naming it. A prediction that overflows
// (an embedding value of 3e38): 400 naming the case's largest input value. Body over
// the size limit: 413. Model not loaded yet, server busy, deadline passed: 503. Bad
// input never yields a 500; a 500 means the model itself failed and is logged.
package serve
