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
# tiny_options DIR: sets OPTS to the --options that train the demo config on tiny_shards DIR
# (tests add their own keys: OPTS+=(runner.max_iters=4 ...)).
tiny_options() {
  OPTS=(--options "data.train.data_root=$1/shards" "data.val.data_root=$1/shards" "data.test.data_root=$1/shards"
        data.samples_per_gpu=2 "data.train.pipeline.2.img_scale=[48,40]" "data.val.pipeline.1.img_scale=[48,40]")
}
# wait_for_log DIR PATTERN SECONDS: whether a log in work_dir DIR gets a line matching PATTERN in time.
wait_for_log() {  # DIR PATTERN SECONDS
  local deadline=$((SECONDS + $3))
  until grep -qs -- "$2" "$1"/*.log; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.2; done
}
