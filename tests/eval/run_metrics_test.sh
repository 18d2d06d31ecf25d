#!/usr/bin/env bash
# numpy computes the reference metrics, then the C++ test compares. Usage: run_metrics_test.sh BINARY
set -eu
cd "$(dirname "$0")/../.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
./scripts/py tests/eval/metrics_reference.py "$dir/metrics.pth"
SEGTRAIN_METRICS_REFERENCE="$dir/metrics.pth" "$1"
