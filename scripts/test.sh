#!/usr/bin/env bash
# The README's test command: setup (apt, Python environment), build, and every test suite.
# Extra arguments go to `meson test` (e.g. --suite unit).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SEGTRAIN_ROOT/scripts/setup.sh"
"$SEGTRAIN_ROOT/scripts/build.sh"
export OMP_NUM_THREADS=1
cd "$SEGTRAIN_ROOT"
meson test -C build --print-errorlogs "$@"
