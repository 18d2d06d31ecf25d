#!/usr/bin/env bash
# What clusters do to jobs, under mpirun through scripts/dist_train.sh:
#  - SIGTERM to one rank: every rank stops at the next iteration, rank 0 writes that iteration's
#    checkpoint, exit 75; --auto-resume ends bitwise where an uninterrupted run does.
#  - SIGKILL of a rank: the whole job exits non-zero within 30 s.
#  - rank 0 killed at random moments while it saves a checkpoint every iteration, 5 times:
#    latest.pth always loads and --auto-resume always starts (and finally finishes).
#  - two jobs at once on one machine both finish correctly.
# Usage: test_cluster_life.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.."
source tests/e2e/e2e_lib.sh
export SEGTRAIN_BIN="$SEGTRAIN" OMP_NUM_THREADS=1
T="$(mktemp -d)"; trap 'pkill -KILL -f "$T/" 2>/dev/null; rm -rf "$T"' EXIT
tiny_shards "$T"
tiny_options "$T"
OPTS+=(log_config.interval=1 evaluation.interval=1000 checkpoint_config.interval=1000)

# The pid of RANK's process of the job whose work_dir is DIR (Open MPI puts the rank in its environment).
rank_pid() {
  local dir="$1" rank="$2" pid
  for pid in $(pgrep -f -- "--work-dir $dir( |$)"); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$rank" && { echo "$pid"; return 0; }
  done
  return 1
}
SAME_WEIGHTS='
import sys, torch
a = torch.load(sys.argv[1], weights_only=False); b = torch.load(sys.argv[2], weights_only=False)
bad = [k for k in a["state_dict"] if not torch.equal(a["state_dict"][k], b["state_dict"][k])]
assert a["meta"]["iter"] == b["meta"]["iter"] and not bad, bad[:5]
'

# Preemption: SIGTERM to rank 1 only.
RUN=(./scripts/dist_train.sh "$DEMO" 2 --deterministic --seed 7 "${OPTS[@]}" runner.max_iters=24)
expect_exit 0 "uninterrupted run" -- "${RUN[@]}" --work-dir "$T/full"
"${RUN[@]}" --work-dir "$T/pre" >"$T/pre.out" 2>&1 &
job=$!
check "the run to preempt trains" wait_for_log "$T/pre" 'Iter \[3/24\]' 60
pid="$(rank_pid "$T/pre" 1)"
check "rank 1 found" test -n "$pid"
kill -TERM "$pid"
wait "$job"; code=$?
check "a preempted job exits with 75 (got $code)" test "$code" = 75
k="$(sed -n 's/.*SIGTERM received: checkpoint of iteration \([0-9]*\) written.*/\1/p' "$T"/pre/*.log)"
check "rank 0 logs the checkpoint it wrote at iteration k=${k:-none}" test -n "$k"
check "iter_k.pth and latest.pth hold iteration k" ./scripts/py -c "
import sys, torch
for f in sys.argv[2:]: assert torch.load(f, weights_only=False)['meta']['iter'] == int(sys.argv[1]), f
" "${k:-0}" "$T/pre/iter_${k:-0}.pth" "$T/pre/latest.pth"
expect_exit 0 "--auto-resume after the preemption" -- "${RUN[@]}" --work-dir "$T/pre" --auto-resume
check "resumed at iteration k" grep -qs "resumed from $T/pre/latest.pth at iteration ${k:-none}$" "$T"/pre/*.log
check "final weights bitwise equal to the uninterrupted run's" ./scripts/py -c "$SAME_WEIGHTS" "$T/full/iter_24.pth" "$T/pre/iter_24.pth"

# A dead rank ends the job.
"${RUN[@]}" runner.max_iters=100000 --work-dir "$T/dead" >"$T/dead.out" 2>&1 &
job=$!
check "the run to kill trains" wait_for_log "$T/dead" 'Iter \[3/' 60
pid="$(rank_pid "$T/dead" 1)"
start=$SECONDS; kill -KILL "$pid"; wait "$job"; code=$?
check "SIGKILL of rank 1: the job exits non-zero (got $code) within 30 s (took $((SECONDS - start)) s)" \
  test "$code" != 0 -a $((SECONDS - start)) -le 30

# Torn writes: rank 0 killed while checkpointing every iteration; every restart auto-resumes.
TORN=(./scripts/dist_train.sh "$DEMO" 2 "${OPTS[@]}" checkpoint_config.interval=1 checkpoint_config.max_keep_ckpts=2
      runner.max_iters=30 --work-dir "$T/torn" --auto-resume)
starts=0
for attempt in $(seq 1 5); do
  "${TORN[@]}" >"$T/torn.out" 2>&1 &
  job=$!
  wait_for_log "$T/torn" 'Saving checkpoint at' 60 || true
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  pid="$(rank_pid "$T/torn" 0)" && kill -KILL "$pid"
  wait "$job"
  grep -q "auto-resume: " "$T/torn.out" && starts=$((starts + 1))
  [ ! -f "$T/torn/latest.pth" ] || cp "$T/torn/latest.pth" "$T/latest_$attempt.pth"
  rm -f "$T"/torn/*.log   # so that the next attempt waits for its own first checkpoint
done
check "all 5 attempts auto-resumed (logged 'auto-resume: ...': $starts)" test "$starts" = 5
check "every latest.pth left by a killed rank 0 loads" ./scripts/py -c "
import sys, torch
assert len(sys.argv) > 3, 'too few snapshots: %d' % (len(sys.argv) - 1)
for f in sys.argv[1:]: torch.load(f, weights_only=False)['state_dict']
" "$T"/latest_*.pth
expect_exit 0 "after 5 kills, --auto-resume trains to the end" -- "${TORN[@]}"
check "the final checkpoint is there" test -f "$T/torn/iter_30.pth"

# Neighbours: two jobs at once on one machine, different work_dirs.
TWO=(./scripts/dist_train.sh "$DEMO" 2 --seed 7 --deterministic "${OPTS[@]}" runner.max_iters=24)
"${TWO[@]}" --work-dir "$T/a" >"$T/a.out" 2>&1 & ja=$!
"${TWO[@]}" --work-dir "$T/b" >"$T/b.out" 2>&1 & jb=$!
wait "$ja"; ca=$?; wait "$jb"; cb=$?
check "two concurrent jobs both exit 0 ($ca, $cb)" test "$ca/$cb" = 0/0
check "both end with the uninterrupted run's weights" bash -c "./scripts/py -c '$SAME_WEIGHTS' '$T/full/iter_24.pth' '$T/a/iter_24.pth' && ./scripts/py -c '$SAME_WEIGHTS' '$T/full/iter_24.pth' '$T/b/iter_24.pth'"
finish
