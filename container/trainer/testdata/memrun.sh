#!/usr/bin/env bash
# memrun.sh: the scale check of issue 23. Synthesises a final table with `launcher synth`
# (unless it exists), trains one epoch of a small network on it through `launcher local`,
# and prints peak RSS, wall time and when each phase ended (seconds from the start, from
# the trainer's log lines). The target: a 10^6-sample set (250000 subjects) under 2 GB.
#
#   container/trainer/testdata/memrun.sh SUBJECTS WORKDIR [TRAINER [LAUNCHER]]
#
# With MAX_MIB set it exits 1 when the peak RSS is at or above it (the issue's target:
# MAX_MIB=2000 with SUBJECTS=250000).
#
# TRAINER and LAUNCHER default to binaries built from this checkout into WORKDIR.
# Run it with nice on a shared machine; 10^6 samples take about 9 GB of CSV (1.3 GB gzip'd).
set -euo pipefail
subjects=${1:?subjects}
work=${2:?work folder}
mkdir -p "$work"
root=$(cd "$(dirname "$0")/../../.." && pwd)
trainer=${3:-}
launcher=${4:-}
if [[ -z $trainer ]]; then
	(cd "$root" && go build -o "$work/trainer" ./container) && trainer=$work/trainer
fi
if [[ -z $launcher ]]; then
	(cd "$root" && go build -o "$work/launcher" ./launcher) && launcher=$work/launcher
fi
data=$work/synth-$subjects.csv.gz
if [[ ! -s $data ]]; then
	"$launcher" synth --subjects "$subjects" --out "$data"
fi
out=$work/run-$(basename "$trainer")-$subjects
rm -rf "$out"
start=$(date +%s.%N)
# RSS of the trainer every 2 s, to see which phase the peak is in
(
	while sleep 2; do
		for pid in $(pgrep -f "^$trainer" || true); do
			printf '%8.1f %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')" \
				"$(grep -E 'VmRSS' /proc/"$pid"/status 2>/dev/null | tr -s ' \t' ' ')"
		done
	done
) >"$out.rss" &
sampler=$!
trap 'kill $sampler 2>/dev/null' EXIT
# every output line gets its second from the start, so the phases can be read off
/usr/bin/time -v -o "$out.time" "$launcher" local --trainer "$trainer" --train "$data" --output "$out" \
	--env BLUEBLOOD_MAX_ROWS=50000000 \
	--env BLUEBLOOD_MAX_FILE_BYTES=34359738368 --env BLUEBLOOD_MAX_CHANNEL_BYTES=34359738368 --epochs 1 --hp lstm_units=16 --hp encoder_units=16 \
	--hp batch_size=128 --hp patience=0 2>&1 |
	while IFS= read -r line; do
		printf '%8.1f %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')" "$line"
	done >"$out.log"
grep -E 'Maximum resident|Elapsed' "$out.time"
kb=$(awk '/Maximum resident/ {print $NF}' "$out.time")
echo "peak RSS: $((kb / 1024)) MiB ($kb kB); log with seconds from the start: $out.log; RSS every 2 s: $out.rss"
if [[ -n ${MAX_MIB:-} ]] && ((kb / 1024 >= MAX_MIB)); then
	echo "FAIL: peak RSS $((kb / 1024)) MiB is not under $MAX_MIB MiB" >&2
	exit 1
fi
