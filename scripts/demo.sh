#!/usr/bin/env bash
# The README's main job: setup, build, then segtrain on the demo config with 2 MPI ranks.
# Today segtrain validates the config and lays out work_dirs/demo/ (config dump, text and JSON
# logs); the data, model and engine issues turn this into the full training run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SEGTRAIN_ROOT/scripts/setup.sh"
"$SEGTRAIN_ROOT/scripts/build.sh" >/dev/null
cd "$SEGTRAIN_ROOT"
CONFIG=configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml
WORK_DIR=work_dirs/demo
OMP_NUM_THREADS=1 mpirun --oversubscribe -np 2 build/segtrain "$CONFIG" --work-dir "$WORK_DIR" "$@"
echo "demo: work_dir $WORK_DIR:"
ls -l "$WORK_DIR"
