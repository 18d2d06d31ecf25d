#!/usr/bin/env bash
# Runs the Python tests (tests/python) with the setup's environment.
set -eu
cd "$(dirname "$0")/../.."
exec ./scripts/py -m pytest -q -p no:cacheprovider tests/python "$@"
