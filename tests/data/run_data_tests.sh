#!/usr/bin/env bash
# Makes small shards with the Python converter, then runs the C++ data tests on them.
# Usage: run_data_tests.sh DATA_TESTS_BINARY
set -eu
cd "$(dirname "$0")/../.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
./scripts/py tests/data/make_test_shards.py "$dir/data"
SEGTRAIN_TEST_DATA="$dir/data" "$1"
