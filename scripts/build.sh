#!/usr/bin/env bash
# Configures (once) and builds build/. Extra arguments go to `meson setup` on first configure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SEGTRAIN_ROOT"
if [ ! -f build/build.ninja ]; then
  meson setup build -Dpython="$SEGTRAIN_VENV/bin/python" "$@"
fi
ninja -C build -j"${SEGTRAIN_BUILD_JOBS:-$(nproc)}"
