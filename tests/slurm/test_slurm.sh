#!/usr/bin/env bash
# The Slurm launch scripts on a real single-node Slurm (tests/slurm/cluster.sh, started here and
# stopped on exit): scripts/slurm_train.sh runs a 2-rank training through srun --mpi=pmix, and
# scripts/slurm_train.sbatch survives a preemption notice (SIGUSR1 to the batch shell: checkpoint,
# exit 75, requeue, --auto-resume to the end) while a cancelled job stays cancelled. Needs root
# and Debian's Slurm and munge (scripts/slurm_packages.txt); without them it is skipped (exit 77).
# Usage: test_slurm.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.." || exit 1
source tests/cli/lib.sh

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

# Polls COMMAND every half second for up to SECONDS; false when it never succeeded.
wait_until() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.5; done
}
# Whether a log in work_dir DIR (looked up at each call) has a line matching PATTERN.
logged_in() { grep -qs -- "$2" "$1"/*.log; }
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# Whether JOB is over: in a final state, or gone from slurmctld's memory.
job_ended() {
  case "$(job_field "$1" JobState)" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | "") return 0 ;;
  esac
  return 1
}
job_requeued_or_ended() { [ "$(job_field "$1" Restarts)" = 1 ] || job_ended "$1"; }

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

# The preemption contract (scripts/slurm_train.sbatch, segtrain's exit code 75): SIGUSR1 to the
# batch shell, as --signal=B:USR1@120 sends it, reaches the ranks; segtrain writes iter_<k>.pth
# and latest.pth of the iteration it reached and exits with 75; the script requeues the job, and
# the next run resumes there with --auto-resume and finishes.
test_preemption_requeue() {
  local wd="$T/preempt" out="$T/preempt.out" job max=20
  job="$(CONFIG="$DEMO" WORK_DIR="$wd" sbatch --parsable -p dev -n 2 --ntasks-per-node=2 -c 1 \
         --job-name=preempt --output="$out" scripts/slurm_train.sbatch \
         --seed 2 --deterministic --options "${DATA[@]}" runner.max_iters=$max log_config.interval=2 \
         checkpoint_config.interval=1000 evaluation.interval=1000)"
  check "sbatch accepted the job" test -n "$job"
  check "the first run trains" wait_until 90 logged_in "$wd" 'Iter \[2/'
  scancel --batch --signal=USR1 "$job"
  wait_until 60 job_requeued_or_ended "$job"
  check "the job is requeued" test "$(job_field "$job" Restarts)" = 1
  check "the output says why" grep -q 'segtrain stopped at a checkpoint (exit 75, after USR1); requeueing' "$out"
  if [ "$(job_field "$job" Restarts)" != 1 ]; then
    echo "--- the job was not requeued: state $(job_field "$job" JobState), exit $(job_field "$job" ExitCode); $out ends with:"
    tail -n 8 "$out"
    return
  fi
  local first_log k
  first_log="$(ls "$wd"/*.log 2>/dev/null | head -n 1)"
  k="$(sed -n 's/.*SIGUSR1 received: checkpoint of iteration \([0-9]*\) written.*/\1/p' "${first_log:-/dev/null}")"
  check "segtrain reports the checkpoint it wrote" test -n "$k"
  check "iter_<k>.pth and latest.pth of that iteration" ./scripts/py -c "
import sys, torch
k = int(sys.argv[1])
assert 0 < k < $max, k
for f in (f'{sys.argv[2]}/iter_{k}.pth', f'{sys.argv[2]}/latest.pth'):
    assert torch.load(f, weights_only=False)['meta']['iter'] == k, f
" "${k:-0}" "$wd"
  # The requeued job may start again after cred_expire (10 s on the test cluster, 120 s by default).
  wait_until 150 job_ended "$job"
  check "the second run completes" test "$(job_field "$job" JobState)" = COMPLETED
  check "the job ends with exit code 0" test "$(job_field "$job" ExitCode)" = 0:0
  check "the second run resumed at iteration k" grep -qs "resumed from $wd/latest.pth at iteration ${k:-none}$" "$(ls "$wd"/*.log | tail -n 1)"
  check "and trained to the end" test -f "$wd/iter_$max.pth"
  check "one output file for both runs" test "$(grep -c 'slurm_train.sbatch: job' "$out")" = 2
  # The same run without the preemption, through slurm_train.sh: bitwise the same final weights.
  env GPUS=2 GPUS_PER_NODE=2 CPUS_PER_TASK=1 ./scripts/slurm_train.sh dev ref "$DEMO" --work-dir "$T/ref" \
    --seed 2 --deterministic --options "${DATA[@]}" runner.max_iters=$max log_config.interval=2 \
    checkpoint_config.interval=1000 evaluation.interval=1000 >/dev/null 2>&1
  check "final weights bitwise equal to an uninterrupted run's" ./scripts/py -c "
import sys, torch
a = torch.load(sys.argv[1], weights_only=False)['state_dict']; b = torch.load(sys.argv[2], weights_only=False)['state_dict']
bad = [k for k in a if not torch.equal(a[k], b[k])]
assert a.keys() == b.keys() and not bad, bad[:5]
" "$T/ref/iter_$max.pth" "$wd/iter_$max.pth"
  [ "$FAILED" = 0 ] || { echo "--- $out:"; tail -n 30 "$out"; }
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

# A task killed with SIGKILL: srun (--kill-on-bad-exit=1) ends the whole step, non-zero, at once.
test_dead_rank() {
  local wd="$T/dead"
  env GPUS=2 GPUS_PER_NODE=2 CPUS_PER_TASK=1 ./scripts/slurm_train.sh dev dead "$DEMO" --work-dir "$wd" \
    --options "${DATA[@]}" runner.max_iters=100000 log_config.interval=2 checkpoint_config.interval=100000 \
    evaluation.interval=100000 >"$T/dead.out" 2>&1 &
  local job=$! pid="" p start code
  check "the job to kill trains" wait_until 90 logged_in "$wd" 'Iter \[2/'
  for p in $(pgrep -f -- "--work-dir $wd( |$)"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_PROCID=1" && pid=$p
  done
  check "rank 1 found" test -n "$pid"
  start=$SECONDS; kill -KILL "${pid:-0}"; wait "$job"; code=$?
  check "SIGKILL of rank 1 ends the srun job non-zero (got $code) within 30 s (took $((SECONDS - start)) s)" \
    test "$code" != 0 -a $((SECONDS - start)) -le 30
  check "no rank is left running" bash -c "! pgrep -f -- '--work-dir $wd( |\$)' >/dev/null"
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
test_dead_rank
test_one_task_fails
test_preemption_requeue
test_cancel_is_final
finish
