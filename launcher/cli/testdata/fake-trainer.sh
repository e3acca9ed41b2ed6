#!/bin/sh
# A stand-in for the trainer: shows what it was given and writes the artifacts
# the real one writes. FAIL=1 makes it fail the SageMaker way; HOLD and MKDIR
# below let tests act while it runs.
set -e
root="$SAGEMAKER_BASE_DIR"
[ "$1" = train ] || { echo "fake trainer: want argument train, got '$1'" >&2; exit 9; }
echo "job=$TRAINING_JOB_NAME"
echo "hyperparameters=$(cat "$root/input/config/hyperparameters.json")"
echo "inputdataconfig=$(cat "$root/input/config/inputdataconfig.json")"
echo "resourceconfig=$(cat "$root/input/config/resourceconfig.json")"
echo "train=$(ls "$root/input/data/train")"
echo "epoch=1/2 validation:rmse=0.5"
echo "progress on stderr" >&2
mkdir -p "$root/model" "$root/output/data"
echo '{"kind":"fake"}' > "$root/model/model.json"
echo '{"status":"completed"}' > "$root/output/data/metrics.json"
echo 'analyte,observed,predicted' > "$root/output/data/predictions.csv"
echo '# report' > "$root/output/data/report.md"
printf 'not really a png' > "$root/output/data/loss.png"
# HOLD=path: wait (up to 20 s) until path exists, after creating path.started.
if [ -n "$HOLD" ]; then
	: > "$HOLD.started"
	i=0
	while [ ! -e "$HOLD" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
fi
# MKDIR=path: create a folder during the run, as another program might.
[ -z "$MKDIR" ] || mkdir -p "$MKDIR"
if [ -n "$FAIL" ]; then
	echo "AlgorithmError: fake failure for the test" > "$root/output/failure"
	exit 2
fi
