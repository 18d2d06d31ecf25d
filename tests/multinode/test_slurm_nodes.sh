#!/usr/bin/env bash
# Slurm on two simulated nodes: one slurmd in each node of the bed (tests/multinode/bed.sh),
# slurmctld on node1 (tests/slurm/cluster.sh start DIR BED), the commands run on node1.
#  - GPUS=4 GPUS_PER_NODE=2 scripts/slurm_train.sh: 2 tasks on each node, the log says so;
#  - a task SIGKILLed on node2 ends the job non-zero within 30 s, on both nodes;
#  - scripts/slurm_train.sbatch on 2 nodes: a preemption notice (USR1) checkpoints, requeues, and
#    the requeued job resumes on both nodes and trains to the end.
# Needs root and Debian's Slurm and munge (scripts/setup.sh installs them).
# Usage: test_slurm_nodes.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/e2e_lib.sh
source tests/slurm/slurm_lib.sh
source tests/multinode/bed_lib.sh
for program in munged slurmctld slurmd srun sbatch; do
  command -v "$program" >/dev/null || { echo "FAIL: $program not installed (scripts/setup.sh installs it)"; exit 1; }
done
tests/slurm/cluster.sh start "$T/cluster" "$BED" >/dev/null || { echo "FAIL: the test cluster did not start"; exit 1; }
source "$T/cluster/env.sh"
on_ctl() { on_node node1 "$@"; }
check "sinfo on node1 shows node1 and node2 idle" test "$(on_ctl sinfo -h -p dev -o '%t %N')" = "idle node[1-2]"
export SEGTRAIN_BIN="$SEGTRAIN"

tiny_shards "$T"
tiny_options "$T"
OPTS+=(log_config.interval=2 evaluation.interval=1000)
# slurm_train.sh on node1: 4 tasks, 2 per node, at most 5 minutes.
slurm_train_two_nodes() {
  timeout -k 5 300 tests/multinode/bed.sh exec "$BED" node1 \
    env GPUS=4 GPUS_PER_NODE=2 CPUS_PER_TASK=1 ./scripts/slurm_train.sh dev "$@"
}

test_slurm_train_sh() {
  local wd="$T/wd"
  expect_exit 0 "slurm_train.sh runs 4 tasks on 2 nodes" -- slurm_train_two_nodes seg "$DEMO" --work-dir "$wd" \
    "${OPTS[@]}" runner.max_iters=4 checkpoint_config.interval=4
  check "srun asks for 2 tasks per node" grep -qE '^\+ srun .*--ntasks=4 .*--ntasks-per-node=2 ' "$ERR"
  check "the log says 4 ranks on 2 nodes" grep -qs 'Distributed training: 4 ranks on 2 node(s)' "$wd"/*.log
  check "2 tasks on each node, local ranks 0 and 1" bash -c "grep -A2 'Ranks by node:' $wd/*.log | \
    grep -cxE 'node1: rank 0 \\(local 0, cpu\\), rank 1 \\(local 1, cpu\\)|node2: rank 2 \\(local 0, cpu\\), rank 3 \\(local 1, cpu\\)' | grep -qx 2"
  local job
  job="$(on_ctl squeue -h -t all -n seg -o %A | head -n 1)"
  check "Slurm ran job 'seg' on node[1-2]" test "$(job_field "$job" NodeList)" = "node[1-2]"
  check "and trained to the end" test -f "$wd/iter_4.pth"
}

test_task_killed_on_node2() {
  local wd="$T/dead" start code pid
  slurm_train_two_nodes dead "$DEMO" --work-dir "$wd" "${OPTS[@]}" runner.max_iters=100000 \
    checkpoint_config.interval=100000 >"$T/dead.out" 2>&1 &
  local run=$!
  check "the job to kill trains" wait_until 120 logged_in "$wd" 'Iter \[2/'
  pid="$(ranks_on node2 | head -n 1)"
  check "a task on node2 found" test -n "$pid"
  start=$SECONDS; kill -KILL "${pid:-0}"; wait "$run"; code=$?
  check "SIGKILL of a task on node2 ends the job non-zero (got $code) within 30 s (took $((SECONDS - start)) s)" \
    test "$code" != 0 -a $((SECONDS - start)) -le 30
  check "no task runs on node1 or node2 within 30 s" no_rank_left_within_30s "$start"
}

# The preemption contract on 2 nodes (scripts/slurm_train.sbatch, segtrain's exit code 75): SIGUSR1
# to the batch shell (on node1), as --signal=B:USR1@120 sends it, reaches the ranks on both nodes;
# rank 0 writes iter_<k>.pth and latest.pth of the iteration it reached, every rank exits with
# 75, the script requeues the job, and the next run resumes there with --auto-resume on both nodes
# and trains to the end. (That a resumed run ends bitwise where an uninterrupted one does is
# tests/e2e/test_cluster_life.sh's check, through dist_train.sh.)
test_preemption_requeue() {
  local wd="$T/preempt" out="$T/preempt.out" job max=12 k
  local run=(--seed 2 "${OPTS[@]}" runner.max_iters=$max checkpoint_config.interval=1000)
  job="$(on_ctl env CONFIG="$DEMO" WORK_DIR="$wd" sbatch --parsable -p dev -N 2 -n 4 --ntasks-per-node=2 -c 1 \
         --job-name=preempt --output="$out" scripts/slurm_train.sbatch "${run[@]}")"
  check "sbatch accepted the 2-node job" test -n "$job"
  check "the first run trains" wait_until 120 logged_in "$wd" 'Iter \[2/'
  on_ctl scancel --batch --signal=USR1 "$job"
  wait_until 60 job_requeued_or_ended "$job"
  check "the job is requeued" test "$(job_field "$job" Restarts)" = 1
  check "the output says why" grep -q 'segtrain stopped at a checkpoint (exit 75, after USR1); requeueing' "$out"
  k="$(sed -n 's/.*SIGUSR1 received: checkpoint of iteration \([0-9]*\) written.*/\1/p' "$wd"/*.log | head -n 1)"
  check "segtrain wrote the checkpoint of iteration ${k:-none}" test -n "$k"
  check "iter_<k>.pth and latest.pth of that iteration" ./scripts/py -c "
import sys, torch
k = int(sys.argv[1])
assert 0 < k < $max, k
for f in (f'{sys.argv[2]}/iter_{k}.pth', f'{sys.argv[2]}/latest.pth'):
    assert torch.load(f, weights_only=False)['meta']['iter'] == k, f
" "${k:-0}" "$wd"
  # The requeued job may start again after cred_expire (10 s on the test cluster).
  wait_until 150 job_ended "$job"
  check "the second run completes" test "$(job_field "$job" JobState)/$(job_field "$job" ExitCode)" = COMPLETED/0:0
  check "and resumed at iteration k on 2 nodes" bash -c "grep -qs 'resumed from $wd/latest.pth at iteration ${k:-none}$' $wd/*.log && \
    test \$(cat $wd/*.log | grep -c 'Distributed training: 4 ranks on 2 node(s)') = 2"
  check "one output file for both runs" test "$(grep -c 'slurm_train.sbatch: job' "$out")" = 2
  [ "$FAILED" = 0 ] || { echo "--- $out:"; tail -n 30 "$out"; }
}

test_slurm_train_sh
test_task_killed_on_node2
test_preemption_requeue
finish
