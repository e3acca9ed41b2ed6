// Package trainer implements SageMaker's training contract for BlueBlood. The container's
// main only dispatches `train` to Train; everything below lives here.
//
// # Inputs (root /opt/ml, or $SAGEMAKER_BASE_DIR)
//
//   - input/config/hyperparameters.json (required; "{}" for defaults): a flat JSON object.
//     Values may be plain strings ("0.001"), JSON-encoded strings ("\"0.001\""), or bare
//     numbers. Names and aliases, defaults and ranges are in package hparams. Keys starting
//     with "_" or "sagemaker_" are ignored whatever their value; a key given twice fails the
//     job, and so does any other unknown key, naming the closest known one.
//   - input/config/inputdataconfig.json (optional): the channels; File and FastFile
//     modes are accepted, Pipe is rejected. Without it the folders under input/data are
//     the channels.
//   - input/config/resourceconfig.json (optional): logged; more than one host fails.
//   - input/config/checkpointconfig.json (optional): LocalPath overrides checkpoints/.
//   - input/data/train (required), validation and test (optional): each holds raw
//     tables (.csv, .csv.gz, in any nested folders; other files are logged and ignored)
//     or a prepared dataset (pipeline.WritePrepared). Without a validation channel the
//     trainer splits train by subject (validation_fraction); test_fraction (default 0.15)
//     does the same for a missing test channel, so the report scores unseen subjects. With
//     folds > 0 the test split is instead fold number fold of the train channel, cut as
//     launcher cv cuts it. Scalers are fitted on the training split only.
//
// # Log lines
//
// Stdout carries one metric line per epoch and, last, the best epoch's metrics again
// (plus test metrics when there is a test split), in package metricdef's format:
//
//	epoch=3/40 train:loss=0.41 validation:loss=0.38 validation:rmse=0.61 validation:mae=0.47
//	best epoch=2/40 train:loss=0.42 validation:loss=0.37 validation:rmse=0.6 validation:mae=0.46
//
// Losses are masked MSE over observed targets in scaled units (each analyte standardised
// with the training split); RMSE and MAE likewise. Stderr carries the log: the
// configuration files, the data read report, the split, and the seconds from start to
// the first finished epoch.
//
// # Outputs
//
//   - model/: written through a staging folder and moved into place only when complete:
//     model.json and weights.bin (package model's format: architecture, layer sizes,
//     feature layout, scaler and unit vocabulary, hyperparameters, format version) and
//     training.json (how the run ended, its hyperparameters and final metrics).
//   - output/data/: metrics.json (status, the untrained network's validation loss
//     (epoch 0) and the per-epoch history, and for train, validation and test the kept
//     weights' scores (unweighted, dropout off) beside the train_mean, post_equals_pre and
//     ridge baselines' on the same targets, and the baselines the model does not beat),
//     predictions.csv (subject_id,prescription_start,analyte,pre,observed,predicted
//     in original units, one row per observed target of the test split, else validation),
//     loss.png, errors.png and report.md.
//   - output/failure: on failure only, one line of at most 1024 bytes saying what was
//     wrong, where, and what was expected; never a stack trace. No model is written.
//   - checkpoints/blueblood.ckpt: every checkpoint_every epochs and on SIGTERM.
//
// # Stop and resume
//
// Context cancellation (SIGTERM in the binary) stops training at the next batch, writes
// a checkpoint, restores the best weights, writes the outputs and the model, and returns
// an error wrapping ErrStopped (exit status 143). A checkpoint present at start is
// resumed; with the same data and hyperparameters the result is identical to an
// uninterrupted run. A checkpoint whose feature layout or network shape differs from the
// job fails it.
//
// # Exit status
//
// 0 success, 1 failure (output/failure written), 2 usage, 143 stopped by SIGTERM.
package trainer
