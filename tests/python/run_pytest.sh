#!/usr/bin/env bash
# Runs the Python tests (tests/python) with the setup's environment, on two workers
# (pytest-xdist; tests of one xdist_group share a worker).
set -eu
cd "$(dirname "$0")/../.."
exec ./scripts/py -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup tests/python "$@"
