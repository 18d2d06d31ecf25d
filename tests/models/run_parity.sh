#!/usr/bin/env bash
# Writes the torch.nn reference's weights and results, then checks segtrain against them.
# Usage: run_parity.sh MODEL_PARITY_BINARY
set -eu
cd "$(dirname "$0")/../.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
OMP_NUM_THREADS=1 ./scripts/py tests/models/parity_reference.py "$dir"
SEGTRAIN_PARITY_DATA="$dir" "$1"
