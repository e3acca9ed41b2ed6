#!/usr/bin/env bash
# Hostile training inputs against the real trainer binary: a gzip bomb of zeros (2 GiB
# decompressed, with and without newlines), a gzip bomb of tiny valid rows without ids
# (one sample per row), a channel file linked to /dev/zero and a FIFO. For each: exit status, wall time, peak RSS (/usr/bin/time -v) and the failure
# file. The target is a failure file, peak RSS < 512 MiB and < 10 s for every case.
#
#   container/testdata/hostile-input.sh                  # trainer built from this tree
#   TRAINERS="before=/path/a after=/path/b" container/testdata/hostile-input.sh
#   CASES="fifo dev-zero-link" container/testdata/hostile-input.sh
#
# With several trainers each case runs them in turn (interleaved), on the same files.
# Each run is capped (ulimit -v CAP_KB, timeout LIMIT_S) so that a trainer without the
# limits cannot take the machine down; a run that hits the cap shows as killed.
set -euo pipefail
cd "$(dirname "$0")/../.."
CAP_KB=${CAP_KB:-4194304} # 4 GiB of address space
LIMIT_S=${LIMIT_S:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z "${TRAINERS:-}" ]]; then
	go build -o "$work/trainer" ./container
	TRAINERS="tree=$work/trainer"
fi
header='subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1'

# case NAME: a fresh /opt/ml tree with an empty train channel in $work/NAME
tree() {
	local r=$work/$1
	mkdir -p "$r/input/config" "$r/input/data/train"
	echo '{}' >"$r/input/config/hyperparameters.json"
	echo "$r"
}

r=$(tree gzip-bomb-lines)
{ echo "$header"; for _ in 1 2; do head -c 1G /dev/zero; echo; done; } | gzip -1 >"$r/input/data/train/bomb.csv.gz"
r=$(tree gzip-bomb-no-newline)
{ echo "$header"; head -c 2G /dev/zero; } | gzip -1 >"$r/input/data/train/bomb.csv.gz"
r=$(tree gzip-bomb-valid-rows)
{ echo 'prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1'; head -c 2G < <(yes '1,mg,7.3,7.4,0.1,0.2'); } | gzip -1 >"$r/input/data/train/rows.csv.gz"
r=$(tree dev-zero-link)
ln -s /dev/zero "$r/input/data/train/zero.csv"
r=$(tree fifo)
mkfifo "$r/input/data/train/fifo.csv"

printf '%-22s %-8s %5s %8s %9s  %s\n' case trainer exit wall peak_MiB failure
for c in ${CASES:-gzip-bomb-lines gzip-bomb-no-newline gzip-bomb-valid-rows dev-zero-link fifo}; do
	r=$work/$c
	for t in $TRAINERS; do
		label=${t%%=*} bin=${t#*=}
		rm -rf "$r/output" "$r/model"
		set +e
		(
			ulimit -v "$CAP_KB"
			SAGEMAKER_BASE_DIR=$r /usr/bin/time -v -o "$work/time" timeout -s KILL "$LIMIT_S" "$bin" train >/dev/null 2>"$work/$c.$label.log"
		)
		code=$?
		set -e
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
		rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time")
		# killed by timeout: /usr/bin/time saw only timeout's own memory
		if [[ $code == 137 ]]; then rss=-; fi
		failure="(no failure file)"
		if [[ -f "$r/output/failure" ]]; then failure=$(cut -c1-160 "$r/output/failure"); fi
		printf '%-22s %-8s %5s %8s %9s  %s\n' "$c" "$label" "$code" "$wall" "$rss" "$failure"
	done
done
du -h "$work"/gzip-bomb-*/input/data/train/*.gz
