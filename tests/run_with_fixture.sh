#!/usr/bin/env bash
# Runs a Python fixture script that writes into a fresh folder, then a C++ test binary with that
# folder in an environment variable; the folder goes afterwards.
# Usage: run_with_fixture.sh ENV_NAME FIXTURE_SCRIPT TEST_BINARY
set -eu
env_name="$1"; fixture="$2"; binary="$3"
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
OMP_NUM_THREADS=1 ./scripts/py "$fixture" "$dir/fixture"
env "$env_name=$dir/fixture" "$binary"
