#!/bin/sh
# Stands in for a trainer stopped mid-run: like the real one it saves its model when
# SIGTERM arrives, so a SIGKILL leaves no model.
root="$SAGEMAKER_BASE_DIR"
trap 'mkdir -p "$root/model"; echo "{\"saved\":\"on SIGTERM\"}" > "$root/model/model.json"; exit 143' TERM
echo "training"
while :; do sleep 0.05; done
