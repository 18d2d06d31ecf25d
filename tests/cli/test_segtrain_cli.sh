#!/usr/bin/env bash
# segtrain's command line end to end: help, version, --print-config, errors and exit codes, the
# work_dir layout, and the same under mpirun with 2 ranks. Usage: test_segtrain_cli.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
source "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# In the sanitizer build, every segtrain started here also starts Open MPI, whose leaks
# LeakSanitizer can attribute only with full unwinding (~10 s a start): leaks are the dist and
# other C++ tests' business, memory errors and UB are still checked here, with fast unwinding.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
MPIRUN=(mpirun --oversubscribe -np 2)
DEMO=configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
# A small synthetic dataset in shards, for the runs that open the data.
./scripts/py scripts/make_synthetic_dataset.py "$T/png" --train 6 --val 2 --size 48x40 >/dev/null
./scripts/py scripts/convert_dataset.py cityscapes "$T/png" "$T/shards" --num-classes 8 --workers 1 >/dev/null 2>&1
# Runs here test the CLI, not training: two iterations, one checkpoint, one evaluation.
DATA=(--options "data.train.data_root=$T/shards" "data.val.data_root=$T/shards" "data.test.data_root=$T/shards"
      runner.max_iters=2 checkpoint_config.interval=2 evaluation.interval=2 data.samples_per_gpu=2)

# --help lists every flag; --version names every library.
expect_exit 0 "--help" -- "$SEGTRAIN" --help
for flag in --work-dir --load-from --resume-from --auto-resume --no-validate --seed --deterministic \
            --options --cfg-options --print-config --version; do
  check "--help lists $flag" contains "$OUT" "$flag"
done
expect_exit 0 "--version" -- "$SEGTRAIN" --version
for lib in segtrain torch MPI HDF5; do check "--version names $lib" contains "$OUT" "$lib "; done

# --print-config: the merged tree with the override, and it re-loads to the same tree.
expect_exit 0 "--print-config with an override" -- "$SEGTRAIN" "$DEMO" --print-config --options x.y=1 model.backbone.depth=50
check "printed config has the override" grep -qE '^x:' "$OUT"
check "printed config has the inherited model" contains "$OUT" "type: EncoderDecoder"
check "override replaced the inherited depth" contains "$OUT" "depth: 50"
cp "$OUT" "$T/printed.yaml"
expect_exit 0 "re-print the printed config" -- "$SEGTRAIN" "$T/printed.yaml" --print-config
check "printed config re-loads to the same tree" cmp -s "$T/printed.yaml" "$OUT"
check "--print-config touches no work_dir" test ! -e work_dirs/printed

# The demo configs load and validate on the small synthetic data (tests/python/test_configs.py
# checks the Cityscapes/ADE20K ones, which need their own class counts).
for c in $(find configs/demo -name '*.yaml' | sort); do
  expect_exit 0 "$c loads" -- "$SEGTRAIN" "$c" --print-config
  expect_exit 0 "$c validates" -- "$SEGTRAIN" "$c" --work-dir "$T/validate" "${DATA[@]}"
done

# User mistakes: exit 2, one line on stderr naming the file/key/flag, no work_dir touched.
mkdir -p "$T/wd"; echo "precious" > "$T/wd/keep.txt"
bad() {  # bad NAME YAML NEEDLE
  printf '%b' "$2" > "$T/$1.yaml"
  expect_exit 2 "bad config $1" -- "$SEGTRAIN" "$T/$1.yaml" --work-dir "$T/wd"
  check "$1: message names it ($3)" contains "$ERR" "$3"
  check "$1: one line on stderr" test "$(wc -l < "$ERR")" = 1
}
bad unknown_key "_base_: $PWD/$DEMO\nlr_confg: {}\n" "unknown key 'lr_confg' (did you mean 'lr_config'?)"
bad wrong_type "_base_: $PWD/$DEMO\noptimizer: {lr: fast}\n" "key 'optimizer.lr': expected a float"
bad missing_base "_base_: nothere.yaml\n" "nothere.yaml: config file not found"
bad malformed "a: [1, 2\nb: 3\n" "malformed YAML"
bad save_best "_base_: $PWD/$DEMO\nevaluation: {save_best: mDice}\n" "key 'evaluation.save_best': is 'mDice'"
printf '_base_: cycle_b.yaml\n' > "$T/cycle_b.yaml.tmp"; mv "$T/cycle_b.yaml.tmp" "$T/cycle_b.yaml"
bad cycle_a "_base_: cycle_b.yaml\n" "_base_ cycle"
# Odd inputs never crash: each is a clear user error.
head -c 4096 /dev/urandom > "$T/garbage.yaml"
expect_exit 2 "binary garbage as config" -- "$SEGTRAIN" "$T/garbage.yaml" --work-dir "$T/wd"
expect_exit 2 "a folder as config" -- "$SEGTRAIN" "$T" --work-dir "$T/wd"
printf 'a:\n\tb: 1\n' > "$T/tabs.yaml"
expect_exit 2 "tabs in YAML" -- "$SEGTRAIN" "$T/tabs.yaml" --work-dir "$T/wd"
printf 'model: 3\n' > "$T/scalar_section.yaml"
expect_exit 2 "a scalar where a section is expected" -- "$SEGTRAIN" "$T/scalar_section.yaml" --options model.x=1 --work-dir "$T/wd"
check "the existing work_dir is untouched" test "$(ls "$T/wd")" = keep.txt

expect_exit 2 "unknown flag" -- "$SEGTRAIN" "$DEMO" --no-valdate
check "unknown flag suggests" contains "$ERR" "did you mean '--no-validate'"
expect_exit 2 "load-from with resume-from" -- "$SEGTRAIN" "$DEMO" --load-from a --resume-from b
expect_exit 2 "missing checkpoint" -- "$SEGTRAIN" "$DEMO" --resume-from "$T/none.pth" --work-dir "$T/wd2"
check "missing checkpoint touches no work_dir" test ! -e "$T/wd2"
expect_exit 2 "bad override" -- "$SEGTRAIN" "$DEMO" --options runner.max_iters=abc --work-dir "$T/wd2"
check "bad override names the key" contains "$ERR" "key 'runner.max_iters'"
expect_exit 2 "no config" -- "$SEGTRAIN"
cp "$T/printed.yaml" "$T/printed.copy"
expect_exit 2 "config dump would overwrite the config" -- "$SEGTRAIN" "$T/printed.yaml" --work-dir "$T"
check "the config itself is intact" cmp -s "$T/printed.yaml" "$T/printed.copy"

# A run lays out its work_dir: config dump, text log, JSON log whose first line is meta.
expect_exit 0 "single-process run" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/run1" --seed 5 "${DATA[@]}" runner.max_iters=7
check "config dump" test -f "$T/run1/fcn_r18-d8_64x64_2k_synthetic.yaml"
check "dump has the override" contains "$T/run1/fcn_r18-d8_64x64_2k_synthetic.yaml" "max_iters: 7"
check "text log" test "$(ls "$T/run1"/*.log | wc -l)" = 1
check "JSON log" test "$(ls "$T/run1"/*.log.json | wc -l)" = 1
check "text log in MMSeg's format" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8},[0-9]{3} - segtrain - INFO - ' "$T"/run1/*.log
check "JSON meta has seed 5 and world size 1" python3 -c "
import json,sys; m=json.loads(open(sys.argv[1]).readline())
assert m['seed']==5 and m['world_size']==1 and 'max_iters: 7' in m['config'] and m['torch_version'], m" "$T"/run1/*.log.json
check "no temp files left" test -z "$(ls -A "$T/run1" | grep '\.tmp\.')"
check "the log reports the data" grep -q "train set: 6 samples, 8 classes" "$T"/run1/*.log

# Data mistakes are user errors naming the file or key.
expect_exit 2 "missing shards" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/wd3" --options data.train.data_root=$T/none
check "missing shards: names the folder" contains "$ERR" "$T/none/train: dataset split folder not found"
expect_exit 2 "unknown pipeline step" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/wd3" "${DATA[@]}" data.train.pipeline.3.type=RandomCrp
check "unknown pipeline step: suggests" contains "$ERR" "did you mean 'RandomCrop'"
expect_exit 2 "a collective timeout of 0 s" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/wd3" "${DATA[@]}" dist_params.timeout=0
check "names the key" contains "$ERR" "key 'dist_params.timeout': must be a number of seconds > 0"
check "data mistakes touch no work_dir" test ! -e "$T/wd3"

# The work_dir from the config when --work-dir is absent.
printf "_base_: $PWD/$DEMO\nwork_dir: $T/from_cfg\n" > "$T/wd_cfg.yaml"
expect_exit 0 "work_dir from the config" -- "$SEGTRAIN" "$T/wd_cfg.yaml" "${DATA[@]}"
check "work_dir from the config is used" test -f "$T/from_cfg/wd_cfg.yaml"

# Two ranks: one set of files, rank 0 logs, the seed is shared, errors printed once.
expect_exit 0 "mpirun -np 2 run" -- "${MPIRUN[@]}" "$SEGTRAIN" "$DEMO" --work-dir "$T/run2" "${DATA[@]}"
check "2 ranks: one text log" test "$(ls "$T/run2"/*.log | wc -l)" = 1
check "2 ranks: world size 2 in meta" python3 -c "
import json,sys; m=json.loads(open(sys.argv[1]).readline()); assert m['world_size']==2, m" "$T"/run2/*.log.json
check "2 ranks: INFO lines come from rank 0 only" test "$(grep -c 'Set random seed' "$OUT")" = 1
expect_exit 2 "mpirun -np 2 bad config" -- "${MPIRUN[@]}" "$SEGTRAIN" "$T/wrong_type.yaml" --work-dir "$T/wd"
check "2 ranks: the error is printed once" test "$(grep -c 'segtrain: error' "$ERR")" = 1
touch "$T/blocker"
expect_exit 2 "mpirun -np 2 uncreatable work_dir" -- "${MPIRUN[@]}" "$SEGTRAIN" "$DEMO" --work-dir "$T/blocker/wd" "${DATA[@]}"
check "2 ranks: rank 0's failure ends every rank" contains "$ERR" "cannot create the work_dir"

finish
