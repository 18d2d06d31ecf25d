#!/usr/bin/env bash
# The README's main job: setup, build, the bundled synthetic dataset (PNG tree -> HDF5 shards,
# made under data/ and remade when the generator changes), then training on the demo config with
# 2 MPI ranks into work_dirs/demo/ (logs, iter_N.pth, latest.pth, best_mIoU_iter_N.pth),
# evaluating every 500 iterations, and the loss and mIoU curves as work_dirs/demo/curves.png.
#   ./scripts/demo.sh [CONFIG.yaml] [segtrain args...]
# CONFIG defaults to the FCN demo; configs/demo/segformer_mit-tiny_64x64_2k_synthetic.yaml is the
# transformer one (work_dirs/demo_<config name>/). Extra arguments go to segtrain (e.g.
# --options runner.max_iters=200).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SEGTRAIN_ROOT/scripts/setup.sh"
"$SEGTRAIN_ROOT/scripts/build.sh" >/dev/null
cd "$SEGTRAIN_ROOT"
CONFIG=configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml
WORK_DIR=work_dirs/demo
if [ $# -gt 0 ] && [[ "$1" == *.yaml ]]; then
  [ -f "$1" ] || { echo "demo.sh: $1: no such config file" >&2; exit 2; }
  CONFIG="$1"; shift
  WORK_DIR="work_dirs/demo_$(basename "$CONFIG" .yaml)"
fi
stamp="$(cat scripts/make_synthetic_dataset.py scripts/convert_dataset.py scripts/segdata/*.py | sha256sum | cut -c1-16)"
if [ "$(cat data/synthetic_shards/.made-by 2>/dev/null)" != "$stamp" ]; then
  rm -rf data/synthetic data/synthetic_shards
  ./scripts/make_synthetic_dataset.py data/synthetic --train 400 --val 100 --size 128x96 --num-classes 8
  ./scripts/convert_dataset.py cityscapes data/synthetic data/synthetic_shards \
    --classes background,stripes_0,stripes_1,stripes_2,stripes_3,stripes_4,stripes_5,stripes_6
  echo "$stamp" > data/synthetic_shards/.made-by
fi
OMP_NUM_THREADS=1 mpirun --oversubscribe --bind-to none -np 2 build/segtrain "$CONFIG" --work-dir "$WORK_DIR" "$@"
log="$(ls -t "$WORK_DIR"/*.log | head -n 1)"
echo "demo: $(grep -o 'final mIoU: .*' "$log" || echo 'no evaluation ran')"
echo "demo: log $log, checkpoints:"
ls "$WORK_DIR"/*.pth
if grep -qE '"mode": ?"val"' "${log}.json"; then
  ./scripts/analyze_logs.py "${log}.json" --keys loss mIoU --out "$WORK_DIR/curves.png" >/dev/null
  echo "demo: loss and mIoU curves: $WORK_DIR/curves.png"
fi
