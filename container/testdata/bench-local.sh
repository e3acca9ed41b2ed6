#!/usr/bin/env bash
# End to end: `launcher local` on the bundled synthetic data (the README's first command),
# timed for the trainer builds of this tree against the default image's build of an earlier
# revision, in interleaved rounds on the same machine. Prints per build the median wall
# time, CPU time (user + system, trainer included), peak RSS (/usr/bin/time: the largest
# process, the trainer), the epochs run and the training time per epoch.
#
#   container/testdata/bench-local.sh [ROUNDS]          # default 5
#   BEFORE=<git revision> container/testdata/bench-local.sh
#
# BEFORE defaults to eeceb75, the last revision whose default image was the pure-Go
# build (40 epochs, no test split, no ridge baseline). The static OpenBLAS build needs
# Debian's libopenblas-dev, as the Dockerfile's default target does.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
before=${BEFORE:-eeceb75}
work=$(mktemp -d)
cleanup() {
	git worktree remove --force "$work/before-src" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

git worktree add -q --detach "$work/before-src" "$before"
(cd "$work/before-src" && go build -o "$work/before-launcher" ./launcher && go build -o "$work/before" ./container)
go build -o "$work/launcher" ./launcher
go build -o "$work/after-purego" ./container
CGO_ENABLED=1 go build -tags 'openblas osusergo netgo' -ldflags '-s -w -linkmode external -extldflags -static' \
	-o "$work/after-default" ./container 2>/dev/null ||
	{ echo "the static OpenBLAS build failed: install libopenblas-dev" >&2; exit 1; }

for r in $(seq "$rounds"); do
	for build in before after-default after-purego; do
		launcher=$work/launcher
		[[ $build == before ]] && launcher=$work/before-launcher
		out=$work/run-$build-$r
		/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$launcher" local --trainer "$work/$build" \
			--train pipeline/testdata/synthetic.csv.gz --output "$out" >"$work/log" 2>&1 ||
			{ cat "$work/log" >&2; exit 1; }
		epochs=$(grep -o '"epochs_run": [0-9]*' "$out/output/data/metrics.json" | grep -o '[0-9]*$')
		training=$(grep -o '"training_seconds": [0-9.e+-]*' "$out/output/data/metrics.json" | awk '{print $2}')
		read -r wall user sys rss <"$work/time"
		echo "$build $wall $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') $rss $epochs $(awk -v t="$training" -v e="$epochs" 'BEGIN {print 1000 * t / e}')" >>"$work/results"
		rm -rf "$out"
	done
	echo "round $r/$rounds done" >&2
done

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
echo "launcher local on pipeline/testdata/synthetic.csv.gz, medians of $rounds interleaved rounds ($(nproc) cores)"
echo "| build | wall s | CPU s | peak RSS MB | epochs | training ms per epoch |"
echo "|---|---|---|---|---|---|"
for build in before after-default after-purego; do
	col() { awk -v b="$build" -v c="$1" '$1 == b {print $c}' "$work/results" | median; }
	printf '| %s | %.2f | %.2f | %.0f | %s | %.0f |\n' "$build" "$(col 2)" "$(col 3)" "$(col 4 | awk '{print $1 / 1024}')" "$(col 5)" "$(col 6)"
done
