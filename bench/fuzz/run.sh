#!/usr/bin/env bash
# ./scripts/bench.sh fuzz [SECONDS] [TARGET...]: each libFuzzer target of tests/fuzz (config,
# override, chunk, checkpoint) for SECONDS (default 600), one after another, in the sanitizer
# build (ASan + UBSan). Inputs found accumulate in build-sanitize/tests/fuzz/corpus across runs;
# crashes are saved in build-sanitize/tests/fuzz/crashes. Last line: one JSON object.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
seconds="${1:-600}"
shift || true
"$SEGTRAIN_ROOT/scripts/sanitize.sh" build >/dev/null
exec "$SEGTRAIN_ROOT/tests/fuzz/run_targets.sh" "$SEGTRAIN_ROOT/build-sanitize/tests/fuzz" "$seconds" "$@"
