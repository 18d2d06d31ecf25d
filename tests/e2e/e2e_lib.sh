# What the e2e scripts share (source it from the repository root): the check helpers, the
# environment of an MPI test on this machine, the demo config and a tiny synthetic set.
source tests/cli/lib.sh
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
DEMO=configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml
# tiny_shards DIR: 8 training and 4 validation samples of 48x40 in 8 classes, as DIR/shards.
tiny_shards() {
  ./scripts/py scripts/make_synthetic_dataset.py "$1/png" --train 8 --val 4 --size 48x40 >/dev/null
  ./scripts/py scripts/convert_dataset.py cityscapes "$1/png" "$1/shards" --num-classes 8 --workers 1 >/dev/null 2>&1
}
