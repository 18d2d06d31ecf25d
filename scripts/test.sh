#!/usr/bin/env bash
# The README's test command: setup (apt, Python environment), build, and every test suite.
# Extra arguments go to `meson test` (e.g. --suite unit) and skip the sanitizer build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SEGTRAIN_ROOT/scripts/setup.sh"
"$SEGTRAIN_ROOT/scripts/build.sh"
export OMP_NUM_THREADS=1
cd "$SEGTRAIN_ROOT"
meson test -C build --print-errorlogs "$@"
# The whole run (no arguments: CI, the README's command) adds the sanitizer build's suites.
if [ $# -eq 0 ]; then
  "$SEGTRAIN_ROOT/scripts/sanitize.sh"
fi
