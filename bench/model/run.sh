#!/usr/bin/env bash
# ./scripts/bench.sh model [REPEATS] [THREADS...]: forward+backward time and peak tensor memory
# per model (the ResNet-50 bases of configs/_base_/models, SegFormer MiT-B0 and MiT-B2, UPerNet
# Swin-T) at 512x512, batch 2, on CPU, with and without with_cp.
# Defaults: 1 repeat after a warm-up, 1 and 2 threads. The headline (JSON's with_cp_memory_cut
# and with_cp_time_cost) is PSPNet R50-D8 at the first thread count. Last line: JSON.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$SEGTRAIN_ROOT"
REPEATS="${1:-1}"; shift || true
THREADS=("$@"); [ ${#THREADS[@]} -gt 0 ] || THREADS=(1 2)
OMP_NUM_THREADS="${THREADS[0]}" exec build/bench/bench_model configs "$REPEATS" "${THREADS[@]}"
