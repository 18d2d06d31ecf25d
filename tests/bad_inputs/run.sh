#!/usr/bin/env bash
# Runs the bad-input corpus (test_bad_inputs.py) with the setup's Python.
# Usage: run.sh SEGTRAIN SEGTEST [pytest args]
set -eu
export SEGTRAIN_BIN="$(realpath "$1")" SEGTEST_BIN="$(realpath "$2")"
shift 2
cd "$(dirname "$0")/../.."
# Two workers (pytest-xdist): each case is a program start that fails, and each worker makes its
# own finished run to guard.
exec ./scripts/py -m pytest -q -p no:cacheprovider -n 2 tests/bad_inputs "$@"
