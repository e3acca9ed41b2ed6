// Package pipeline turns the original BlueBlood project's tables into training samples,
// locally and on S3, and writes them as a compact prepared dataset.
//
// # Input shapes
//
// ReadTables discovers a table's shape from its header:
//
//   - final table: pre_* and post_* blood values (empty = missing; -1.0 exactly = missing
//     where it is a point mass against the counts of the values nearest to it or the
//     column's only negative value, a value where it is about as frequent as they are
//     (minusone.go; ReadOptions.MinusOne overrides), decided per analyte and kept in
//     Layout.MinusOneReal; a dose of -1 is missing; with
//     pre_charttime and post_charttime the gap to the prescription is reported and
//     ReadOptions.MaxGapHours bounds it),
//     prescription_dose_val_rx, prescription_dose_unit_rx and an embedding given either as
//     numeric columns P0..Pn or as one string column whose name contains "embedding"
//     ("[ 0.35 -0.12 ... ]"); subject_id and prescription_start identify groups;
//   - raw excerpt: like the final table, but the drug is a name in prescription_drug,
//     embedded by EmbedText; empty cells are missing and -1.0 is an ordinary value; a dose
//     given as a range ("325-650") becomes the range's midpoint and is counted in the report;
//   - table without ids (no subject_id): every row is its own sample; its subject is
//     "row<N>" where N is the row's 1-based data row number in its file, prefixed by
//     "<file>:" when several files are read;
//   - separate tables: prescriptions (subject_id, prescription_start, a drug or embedding,
//     dose, unit, no blood values) and blood tests (subject_id, charttime, analyte columns
//     without prefix). They are joined per (subject, prescription date): the latest test at
//     or before the group's earliest prescription time is the pre-treatment row, the first
//     test after it the post-treatment row, each within ReadOptions.MaxGapDays when set.
//     Groups without either are counted in the report and dropped.
//
// Each of these table formats is a tableFormat in its own file (finaltable.go, with the raw
// excerpt; rxtable.go; bloodtable.go): it detects its headers and reads their rows.
// Inputs that are not such tables (a folder of native database tables, say) are read by
// a Format: its package registers it with RegisterFormat in init() and one import line
// in pipeline/formats links it into the trainer and the launcher; ReadTables hands the
// inputs a Format's Detect claims to its Read.
//
// ReadTable reads one table from an io.Reader the same way (the prediction server reads
// text/csv requests with it). Its ReadOptions.Request (RequestOptions) can read against
// a trained model's Layout, accept final tables without post_* columns
// (AllowMissingTargets) and turn what training tolerates into errors (Strict,
// MaxGroupRows, CheckUnit).
//
// # Samples
//
// A sample is one (subject, prescription date) group: pre values, the prescription rows
// (embedding, dose, unit) in file order, and post values with a mask of observed targets.
// Samples are stored without padding; LimitRows applies the documented overflow policy
// for groups with more prescription rows than the model's block ("truncate" keeps the
// first rows; "split" cuts the group into balanced parts sharing pre and post values).
//
// # Scaling
//
// FitScaler fits on training samples only: per-analyte standardisation over observed pre
// and post values, a signed log1p standardisation of doses and a sorted unit vocabulary
// in which code 0 is reserved for units never seen in training. An analyte with fewer
// than MinScaleCount training values is thin: its std is max(sd, |mean|), and
// Scaler.Thin lists it.
//
// # Sources
//
// Inputs and outputs are local paths or s3://bucket/key and s3://bucket/prefix (every
// .csv and .csv.gz object under the prefix, in key order). Gzip is recognised by its
// magic bytes. s3:// locations go through ReadOptions.S3, an ObjectStore; this package
// imports no cloud SDK, and pipeline/s3store provides the aws-sdk-go-v2 adapter
// (s3store.FromEnv honours AWS_ENDPOINT_URL_S3, AWS_REGION and the usual credentials).
// Without a store, s3:// inputs and outputs fail with a one-line error.
//
// Tables are streamed through a small RFC 4180 reader (one allocation per line, fields
// kept as offsets) and numbers are parsed on a fast exact path, so memory holds the
// parsed samples, not the text. A bad row fails the read with a one-line error naming
// file, line, column and what was expected, unless ReadOptions.MaxBadRows allows it to be
// skipped and counted in the Report.
//
// # Prepared datasets
//
// WritePrepared writes a directory (or S3 prefix) holding manifest.json (format version,
// layout, counts, arrays with shapes and checksums, scaler, source files) and .npy arrays
// that numpy.load reads. The manifest is written last, so its presence marks a complete
// dataset; local output is written to a temporary sibling and renamed into place.
// Prepare writes train/, validation/ and test/ datasets of this form plus summary.json.
//
// # Synthetic data
//
// WriteSynthetic generates final-format tables whose post values follow a documented
// drug effect plus noise (see SynthInfo); testdata/synthetic.csv.gz (300 subjects,
// seed 1) is the bundled default training data and testdata/synthetic_small.csv a small
// fixture. Both are checked against the generator; regenerate them with
// go test ./pipeline -run TestSyntheticFixtures -update.
package pipeline
