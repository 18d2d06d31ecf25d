#!/usr/bin/env bash
# The sanitizer build, build-sanitize/: clang with AddressSanitizer + UndefinedBehaviorSanitizer
# (any report fails the test that triggered it) and the libFuzzer targets of tests/fuzz. Runs the
# unit (but for the Python tests and segtrain_cli's many segtrain starts), dist and fuzz suites
# from it; extra arguments go to `meson test` (e.g. --suite fuzz);
# `sanitize.sh build` builds every target (the fuzz benchmark's too) and runs nothing.
# CUDA is off there: its code cannot run on a machine without a GPU, and clang is not nvcc's host
# compiler. scripts/test.sh runs this after the main build's suites.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SEGTRAIN_ROOT/scripts/setup.sh"
cd "$SEGTRAIN_ROOT"
dir="$SEGTRAIN_ROOT/build-sanitize"
if [ ! -f "$dir/build.ninja" ]; then
  # -O1 -g0: a fraction of a debug build's compile time (-g1's line tables cost a tenth more); the
  # reports' stacks name functions (for file:line, reconfigure with -g1). fuzzer-no-link: the
  # coverage that guides libFuzzer, in the libraries under test too (a no-op for the other tests).
  CXX=clang++ meson setup "$dir" -Dpython="$SEGTRAIN_VENV/bin/python" -Dcuda=disabled -Dfuzz=true \
    -Dbuildtype=plain -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args="-O1 -g0 -fno-omit-frame-pointer -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
fi
if [ "${1:-}" = build ]; then
  # nproc alone would honour the OMP_NUM_THREADS=1 that test.sh exports for the tests.
  ninja -C "$dir" -j"${SEGTRAIN_BUILD_JOBS:-$(env -u OMP_NUM_THREADS nproc)}"
  exit 0
fi
source "$SEGTRAIN_ROOT/tests/sanitizers/options.sh"
export OMP_NUM_THREADS=1
if [ $# -eq 0 ]; then set -- --suite unit --suite dist --suite fuzz; fi
# meson test builds only what the chosen tests need (not segtest, not the benchmarks). The
# multiplier: the tests' timeouts are set for the main build, and sanitized code runs slower.
meson test -C "$dir" --timeout-multiplier 3 --print-errorlogs "$@"
