#!/usr/bin/env bash
# ./scripts/bench.sh NAME [args]: builds what it needs and runs the benchmark bench/NAME/run.sh.
# Every benchmark prints a readable table and, as its very last line, one JSON object.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
available=$(cd "$SEGTRAIN_ROOT/bench" && ls -d */ 2>/dev/null | tr -d / | tr '\n' ' ')
if [ $# -lt 1 ] || [ ! -x "$SEGTRAIN_ROOT/bench/$1/run.sh" ]; then
  echo "usage: scripts/bench.sh NAME [args]; available: ${available:-none yet}" >&2
  exit 2
fi
name="$1"; shift
"$SEGTRAIN_ROOT/scripts/setup.sh"
"$SEGTRAIN_ROOT/scripts/build.sh" >/dev/null
# A benchmark with its own executable (bench/NAME/bench_NAME.cpp); others build what they run.
if [ -f "$SEGTRAIN_ROOT/bench/$name/bench_$name.cpp" ]; then
  ninja -C "$SEGTRAIN_BUILD" "bench/bench_$name" >/dev/null
fi
cd "$SEGTRAIN_ROOT"
exec "bench/$name/run.sh" "$@"
