#!/usr/bin/env bash
# The collective watchdog: rank 1 of a 2-rank run is stopped (SIGSTOP) mid-training; rank 0,
# waiting for it in a collective, ends the job after dist_params.timeout (5 s here) with a line
# naming the iteration and the collective. Usage: test_watchdog.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.."
source tests/e2e/e2e_lib.sh
T="$(mktemp -d)"
JOB=""
cleanup() {  # whatever happened, no process of the test is left stopped or running
  for pid in $(pgrep -f -- "--work-dir $T/wd"); do kill -CONT "$pid"; kill -9 "$pid"; done 2>/dev/null
  [ -n "$JOB" ] && kill -9 "$JOB" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
tiny_shards "$T"

mpirun --oversubscribe --bind-to none -np 2 "$SEGTRAIN" "$DEMO" --work-dir "$T/wd" --options \
  "data.train.data_root=$T/shards" "data.val.data_root=$T/shards" data.samples_per_gpu=2 \
  "data.train.pipeline.2.img_scale=[48,40]" runner.max_iters=100000 log_config.interval=1 \
  evaluation.interval=100000 checkpoint_config.interval=100000 dist_params.timeout=5 >"$T/out" 2>"$T/err" &
JOB=$!
for _ in $(seq 1 600); do grep -q 'Iter \[3/' "$T/out" && break; sleep 0.1; done
check "the run trains" grep -q 'Iter \[3/' "$T/out"
victim=""
for pid in $(pgrep -f -- "--work-dir $T/wd"); do
  tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$pid
done
check "rank 1 found" test -n "$victim"
start=$(date +%s)
kill -STOP "$victim"
for _ in $(seq 1 600); do kill -0 "$JOB" 2>/dev/null || break; sleep 0.1; done
wait "$JOB"; rc=$?
JOB=""
seconds=$(( $(date +%s) - start ))
echo "rank 1 stopped: the job ended after ${seconds} s with exit code $rc"
check "the job ends non-zero" test "$rc" -ne 0
check "after the timeout, not long after (5 s < ${seconds} s < 20 s)" test "$seconds" -ge 5 -a "$seconds" -lt 20
check "rank 0 names the iteration, the collective and the timeout" grep -qE \
  "^\[rank 0 on $(hostname)\] segtrain: error: iteration [0-9]+: waited [0-9]+ s in MPI_[A-Za-z_]+ \(dist_params.timeout: 5 s\)" "$T/err"
# Open MPI ends it as it leaves (SIGCONT, SIGTERM): allow it a few seconds to go.
for _ in $(seq 1 100); do kill -0 "$victim" 2>/dev/null || break; sleep 0.1; done
check "the stopped rank is gone within 10 s of the job" bash -c "! kill -0 $victim 2>/dev/null"
finish
