#!/usr/bin/env bash
# ./scripts/bench.sh gpu_step [gpu_step.py flags]: segtrain's training step against an eager
# PyTorch loop of the same model on one GPU (PSPNet R50-D8, DeepLabV3+ R50-D8, UPerNet R50 at
# 512x1024, batch 2; fp32 / fp16 / bf16 AMP, NCHW / channels_last; segtrain with and without
# with_cp). See gpu_step.py for the flags, the figures and the goals; the last line is JSON.
# On the lent H200: `scripts/device_check.sh install build gpu_step`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$SEGTRAIN_ROOT"
exec python3 bench/gpu_step/gpu_step.py "$@"
