#!/usr/bin/env bash
# Runs the README's commands as written, the way a newcomer would on a fresh clone.
#
# Every ```sh block in README.md must follow a marker line:
#   <!-- ci: run -->            the block runs here (it needs no AWS)
#   <!-- ci: skip REASON -->    it does not (needs AWS, a registry, an hour, ...)
# A block without a marker fails the script, so a new README command is either run or
# has its reason written down. Run blocks execute in order, each in its own bash with
# -euo pipefail, in a copy of the checkout (tracked and untracked, not ignored, files: a
# fresh clone) placed beside a link to ../shared, so nothing lands in the checkout. A
# block's background processes are ended with it.
#
#   bash .ci/readme-commands.sh           # list and run
#   bash .ci/readme-commands.sh --list    # list the blocks and their markers only
#
# Blocks that use docker skip when no engine answers, unless BLUEBLOOD_REQUIRE_DOCKER=1
# (CI); the static OpenBLAS build skips without Debian's libopenblas-dev, unless
# BLUEBLOOD_REQUIRE_OPENBLAS=1 (CI); blocks reading ../shared skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
list_only=0
[ "${1:-}" = "--list" ] && list_only=1

blocks=$(mktemp -d)
trap 'rm -rf "$blocks"' EXIT
# Split README.md into blocks/N.sh with blocks/N.meta = "LINE MARKER..."; fail on a block
# without a marker.
awk -v dir="$blocks" '
  /^<!-- ci: (run|skip [^>]*) -->$/ { marker = $0; sub(/^<!-- ci: /, "", marker); sub(/ -->$/, "", marker); markline = NR; next }
  /^```sh$/ {
    if (markline != NR - 1) { printf "README.md:%d: a sh block without a <!-- ci: run --> or <!-- ci: skip REASON --> line above it\n", NR > "/dev/stderr"; bad = 1 }
    n++; inblock = 1; printf "%d %s\n", NR + 1, marker > (dir "/" n ".meta"); printf "" > (dir "/" n ".sh"); next
  }
  inblock && /^```$/ { inblock = 0; marker = ""; next }
  inblock { print >> (dir "/" n ".sh") }
  END { exit bad }
' README.md

count=$(find "$blocks" -name '*.sh' | wc -l)
[ "$count" -gt 0 ] || { echo "README.md has no sh blocks"; exit 1; }

have_docker=1
docker info >/dev/null 2>&1 || have_docker=0
have_openblas=1
lib=$(gcc -print-file-name=libopenblas.a 2>/dev/null || true)
case "$lib" in /*) ;; *) have_openblas=0 ;; esac

work=$(mktemp -d)
# images the blocks leave: the tag, and the untagged ones a rebuild under it leaves behind
dangling_before=$( [ "$have_docker" = 1 ] && docker images -q --filter dangling=true | sort || true)
cleanup() {
  rm -rf "$blocks" "$work"
  [ "$have_docker" = 1 ] || return 0
  docker rmi -f blueblood-trainer >/dev/null 2>&1 || true
  comm -13 <(echo "$dangling_before") <(docker images -q --filter dangling=true | sort) | xargs -r docker rmi >/dev/null 2>&1 || true
}
trap cleanup EXIT
if [ "$list_only" = 0 ]; then
  mkdir -p "$work/repo"
  git ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 cp --parents -t "$work/repo")
  [ -d "$root/../shared" ] && ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"
fi

ran=0 skipped=0
for i in $(seq "$count"); do
  read -r line marker < "$blocks/$i.meta"
  body=$(cat "$blocks/$i.sh")
  why=""
  case "$marker" in
    skip*) why=${marker#skip } ;;
  esac
  if [ -z "$why" ] && grep -q '\bdocker ' <<<"$body" && [ "$have_docker" = 0 ] && [ "${BLUEBLOOD_REQUIRE_DOCKER:-}" != 1 ]; then
    why="no Docker engine here"
  fi
  if [ -z "$why" ] && grep -q -- "-tags 'openblas" <<<"$body" && [ "$have_openblas" = 0 ] && [ "${BLUEBLOOD_REQUIRE_OPENBLAS:-}" != 1 ]; then
    why="no static OpenBLAS (Debian's libopenblas-dev) here"
  fi
  if [ -z "$why" ] && grep -q '\.\./shared/' <<<"$body" && [ ! -d "$root/../shared" ]; then
    why="no ../shared data beside the checkout"
  fi
  if [ -n "$why" ]; then
    echo "== README.md:$line: skipped ($why)"
    skipped=$((skipped + 1))
    continue
  fi
  echo "== README.md:$line: run"
  [ "$list_only" = 1 ] && continue
  sed 's/^/   | /' <<<"$body"
  start=$SECONDS
  # its own process group, so what the block leaves in the background ends with it
  set +e
  setsid bash -euo pipefail -c 'cd "$0" && eval "$1"' "$work/repo" "$body" > "$work/out" 2>&1 &
  pid=$!
  wait "$pid"
  rc=$?
  set -e
  kill -- -"$pid" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    tail -n 40 "$work/out"
    echo "README.md:$line: the block exited $rc"
    exit 1
  fi
  echo "   ok ($((SECONDS - start)) s)"
  ran=$((ran + 1))
done
echo "README commands: $ran blocks ran, $skipped skipped"
