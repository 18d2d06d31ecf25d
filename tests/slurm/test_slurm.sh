#!/usr/bin/env bash
# The Slurm launch scripts on a real single-node Slurm (tests/slurm/cluster.sh, started here and
# stopped on exit): scripts/slurm_train.sh runs a 2-rank training through srun --mpi=pmix, a task
# that fails alone ends the step, and a job of scripts/slurm_train.sbatch that is cancelled stays
# cancelled. The sbatch template's preemption notice (checkpoint, exit 75, requeue, --auto-resume)
# and a task killed with SIGKILL: tests/multinode/test_slurm_nodes.sh, on two nodes. Needs root
# and Debian's Slurm and munge (scripts/slurm_packages.txt); without them it is skipped (exit 77).
# Usage: test_slurm.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.." || exit 1
source tests/cli/lib.sh
source tests/slurm/slurm_lib.sh

for program in munged slurmctld slurmd srun sbatch; do
  command -v "$program" >/dev/null || { echo "FAIL: $program not installed (scripts/setup.sh installs it)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "skipped: the test cluster runs its daemons as root"; exit 77; }

T="$(mktemp -d)"
trap 'tests/slurm/cluster.sh stop "$T/cluster"; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM   # a timed-out test still stops its daemons
started=$SECONDS
tests/slurm/cluster.sh start "$T/cluster" >/dev/null || { echo "FAIL: the test cluster did not start"; exit 1; }
echo "cluster up in $((SECONDS - started)) s"
source "$T/cluster/env.sh"

./scripts/py scripts/make_synthetic_dataset.py "$T/png" --train 16 --val 8 --size 64x48 --num-classes 4 >/dev/null
./scripts/py scripts/convert_dataset.py cityscapes "$T/png" "$T/shards" --num-classes 4 --workers 1 >/dev/null 2>&1
DEMO=configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml
DATA=("data.train.data_root=$T/shards" "data.val.data_root=$T/shards" "data.test.data_root=$T/shards"
      model.decode_head.num_classes=4 model.auxiliary_head.num_classes=4 data.samples_per_gpu=2
      "data.train.pipeline.2.img_scale=[64,48]" "data.val.pipeline.1.img_scale=[64,48]")
export SEGTRAIN_BIN="$SEGTRAIN"

test_usage_errors() {
  expect_exit 2 "slurm_train.sh without arguments" -- ./scripts/slurm_train.sh
  check "prints the usage" contains "$ERR" "PARTITION JOB_NAME CONFIG"
  expect_exit 2 "slurm_train.sh without a config" -- ./scripts/slurm_train.sh dev seg
  expect_exit 2 "slurm_train.sh with GPUS=two" -- env GPUS=two ./scripts/slurm_train.sh dev seg "$DEMO"
  check "names the variable" contains "$ERR" "GPUS must be a whole number"
  expect_exit 2 "slurm_train.sbatch without a config" -- env -u CONFIG bash scripts/slurm_train.sbatch
  check "says what is missing" contains "$ERR" "set CONFIG or pass it as the first argument"
  expect_exit 2 "slurm_train.sbatch outside a job" -- env -u SLURM_JOB_ID bash scripts/slurm_train.sbatch "$DEMO"
  check "says to use sbatch" contains "$ERR" "submit it with sbatch"
}

test_slurm_train_sh() {
  local wd="$T/wd" t0=$SECONDS
  expect_exit 0 "slurm_train.sh trains 2 ranks through srun" -- \
    env GPUS=2 GPUS_PER_NODE=2 CPUS_PER_TASK=1 MASTER_PORT=29500 ./scripts/slurm_train.sh dev seg "$DEMO" \
    --work-dir "$wd" --seed 1 --options "${DATA[@]}" runner.max_iters=8 log_config.interval=4 \
    checkpoint_config.interval=4 evaluation.interval=8
  echo "2-rank srun training took $((SECONDS - t0)) s"
  check "the srun line is shown" grep -qE '^\+ srun -p dev --job-name=seg --ntasks=2 --cpus-per-task=1 --kill-on-bad-exit=1 --mpi=pmix --ntasks-per-node=2 ' "$ERR"
  check "no --gres on a partition without GPUs" bash -c "! grep -q -- --gres '$ERR'"
  check "MASTER_PORT is noted as unused" contains "$ERR" "MASTER_PORT is not used"
  local log json
  log="$(ls "$wd"/*.log 2>/dev/null | head -n 1)"; json="$(ls "$wd"/*.log.json 2>/dev/null | head -n 1)"
  check "a log file" test -n "$log"
  check "train lines" grep -q 'Iter \[8/8\]' "${log:-/dev/null}"
  check "the log reports 2 ranks" grep -q 'Distributed training: 2 ranks on 1 node(s)' "${log:-/dev/null}"
  check "JSON log: world size 2, train lines at 4 and 8" ./scripts/py -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]['world_size'] == 2, lines[0].get('world_size')
assert [l['iter'] for l in lines if l.get('mode') == 'train'] == [4, 8]
" "${json:-/dev/null}"
  check "checkpoints iter_4, iter_8, latest" test -f "$wd/iter_4.pth" -a -f "$wd/iter_8.pth" -a -f "$wd/latest.pth"
  check "config dump" test -f "$wd/fcn_r18-d8_64x64_2k_synthetic.yaml"
  local job
  job="$(squeue -h -t all -n seg -o %A 2>/dev/null | head -n 1)"
  check "Slurm ran job 'seg' with 2 tasks" test "$(job_field "$job" NumTasks)" = 2
}

# scancel: segtrain still stops at a checkpoint on the SIGTERM, but the job is not requeued.
test_cancel_is_final() {
  local wd="$T/cancel" out="$T/cancel.out" job
  job="$(CONFIG="$DEMO" WORK_DIR="$wd" sbatch --parsable -p dev -n 2 --ntasks-per-node=2 -c 1 \
         --job-name=cancel --output="$out" scripts/slurm_train.sbatch \
         --options "${DATA[@]}" runner.max_iters=200 log_config.interval=2 \
         checkpoint_config.interval=1000 evaluation.interval=1000)"
  check "the job to cancel trains" wait_until 90 logged_in "$wd" 'Iter \[2/'
  scancel "$job"
  wait_until 60 job_ended "$job"
  check "a cancelled job stays cancelled" test "$(job_field "$job" JobState)/$(job_field "$job" Restarts)" = CANCELLED/0
  check "the output says it is not requeued" grep -q 'not requeued; submit again' "$out"
  check "segtrain stopped at a checkpoint on SIGTERM" logged_in "$wd" 'SIGTERM received: checkpoint of iteration'
}

# A task that fails alone (rank 1's data_root is wrong; rank 0 waits for it in a collective):
# the task says so and ends the step at once.
test_one_task_fails() {
  local wd="$T/one_fails" start code
  printf '#!/usr/bin/env bash\n[ "$SLURM_PROCID" = 1 ] && exec "%s" "$@" data.train.data_root=%s\nexec "%s" "$@"\n' \
    "$SEGTRAIN" "$T/none" "$SEGTRAIN" > "$T/rank1_bad_root.sh"
  chmod +x "$T/rank1_bad_root.sh"
  start=$SECONDS
  env SEGTRAIN_BIN="$T/rank1_bad_root.sh" GPUS=2 GPUS_PER_NODE=2 CPUS_PER_TASK=1 timeout -k 5 120 \
    ./scripts/slurm_train.sh dev one_fails "$DEMO" --work-dir "$wd" --options "${DATA[@]}" runner.max_iters=4 \
    >"$T/one_fails.out" 2>"$T/one_fails.err"
  code=$?
  check "rank 1's failure ends the srun step non-zero (got $code) within 10 s (took $((SECONDS - start)) s)" \
    test "$code" != 0 -a "$code" != 124 -a $((SECONDS - start)) -lt 10
  check "rank 1's line names the rank and the cause" grep -qF "[rank 1 on $(hostname)] segtrain: error: $T/none" "$T/one_fails.err"
  check "no task is left running" bash -c "! pgrep -f -- '--work-dir $wd( |\$)' >/dev/null"
}

test_usage_errors
test_slurm_train_sh
test_one_task_fails
test_cancel_is_final
finish
