#!/usr/bin/env bash
# Times `launcher prepare` against DuckDB running the same windowed pairing in SQL
# (duckbench/pair.sql) on a generated MIMIC-IV folder, interleaved run by run, with peak
# RSS from /usr/bin/time -v; then prepare on a quarter of the rows at the same subjects
# (RSS must not grow with rows), and checks that both count the same pairs per analyte.
#
#   pipeline/mimic/testdata/bench.sh [LAB_ROWS] [SUBJECTS] [RUNS]    (defaults 20000000 2000 2)
#
# BENCH_DIR keeps the generated folders between runs (default: a new temporary folder).
set -euo pipefail
rows=${1:-20000000}
subjects=${2:-2000}
runs=${3:-2}
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
echo "work folder $work; $(nproc) cores; load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

go build -o "$work/launcher" "$root/launcher"
(cd "$root/pipeline/mimic/testdata/duckbench" && go build -o "$work/duckbench" .)

gen() { # rows -> folder
	local d="$work/mimic-iv-$subjects-$1"
	[ -d "$d" ] || "$work/launcher" synth --format mimic-iv --subjects "$subjects" --lab-rows "$1" --out "$d" >&2
	echo "$d"
}
big=$(gen "$rows")
small=$(gen $((rows / 4)))

# mb FOLDER: the compressed bytes read (labevents, prescriptions, admissions)
mb() { du -cb "$1/hosp/labevents.csv.gz" "$1/hosp/prescriptions.csv.gz" "$1/hosp/admissions.csv.gz" | tail -1 | cut -f1; }

# run NAME FOLDER CMD...: time CMD; report NAME seconds, MB/s, rows/s and peak RSS (the
# labevents rows as prepare counted them for that folder: quoted cells hold line breaks)
run() {
	local name=$1 folder=$2
	shift 2
	/usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time"
	local secs rss rows cpu
	cpu=$(awk '/User time|System time/{c+=$NF} END{print c}' "$work/$name.time")
	secs=$(grep 'Elapsed (wall clock)' "$work/$name.time" | awk '{print $NF}' | awk -F: '{s=0; for (i=1; i<=NF; i++) s=s*60+$i; print s}')
	rss=$(grep 'Maximum resident set size' "$work/$name.time" | awk '{print $NF}')
	rows=$(grep -ho '[0-9]* lab rows read' "$work"/prepare-*.out 2>/dev/null | head -1 | cut -d' ' -f1)
	[ "$folder" = "$small" ] && rows=$(grep -o '[0-9]* lab rows read' "$work/prepare-small.out" | cut -d' ' -f1)
	awk -v n="$name" -v s="$secs" -v r="$rss" -v mb="$(mb "$folder")" -v rows="$rows" -v cpu="$cpu" \
		'BEGIN{printf "%-14s %7.2f s (cpu %6.2f s) %8.1f MB/s %12.0f rows/s  peak RSS %6.0f MB   (%d rows, %.1f MB)\n", n, s, cpu, mb/1e6/s, rows/s, r/1024, rows, mb/1e6}'
}

for i in $(seq "$runs"); do
	rm -rf "$work/out"
	run "prepare-$i" "$big" "$work/launcher" prepare --input "$big" --output "$work/out"
	run "duckdb-$i" "$big" "$work/duckbench" -dir "$big" -threads "$(nproc)"
done
rm -rf "$work/out-small"
echo "same $subjects subjects, a quarter of the rows:"
run "prepare-small" "$small" "$work/launcher" prepare --input "$small" --output "$work/out-small"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# the groups with a pair per analyte must agree
awk '/^pairs per analyte:/{on=1; next} on && /^  [a-z_]+ +[0-9]+ \/ +[0-9]+ \/ +[0-9]+/{print $1, $6} on && !/^  /{on=0}' "$work/prepare-1.out" | sort >"$work/pairs-prepare"
awk '/^  [a-z_]+ +[0-9]+ \/ +[0-9]+ \/ +[0-9]+$/{print $1, $6}' "$work/duckdb-1.out" | sort >"$work/pairs-duckdb"
if diff "$work/pairs-prepare" "$work/pairs-duckdb" >/dev/null; then
	echo "pairs per analyte agree: $(tr '\n' ' ' <"$work/pairs-prepare")"
else
	echo "pairs per analyte DIFFER (prepare | duckdb):"
	diff -y "$work/pairs-prepare" "$work/pairs-duckdb" || true
	exit 1
fi
