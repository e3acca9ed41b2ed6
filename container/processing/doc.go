// Package processing runs `launcher prepare` inside a SageMaker Processing job with the
// trainer image: `trainer prepare OPTION=VALUE...` reads the job's inputs under
// /opt/ml/processing/input, writes the prepared dataset (train/, validation/, test/,
// summary.json) into the output folder named OutputName, and on failure leaves the reason
// in /opt/ml/output/message, which becomes the job's ExitMessage.
//
// The launcher builds the request from the same declarations (Command, OutputName,
// InputName, Arguments), so the two sides cannot drift apart; the preparation itself is
// pipeline.Prepare, the code `launcher prepare` runs on a workstation.
package processing
