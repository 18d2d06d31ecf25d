#!/usr/bin/env bash
# A rank killed with SIGKILL makes the whole job exit non-zero within 30 s (no hang), whichever
# rank it is. Usage: test_dead_rank.sh HANG_HELPER
set -u
HELPER="$1"
source "$(dirname "$0")/../cli/lib.sh"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

for victim in 1 0; do
  log="$(mktemp)"
  mpirun --oversubscribe --bind-to none -np 2 "$HELPER" >"$log" 2>&1 &
  job=$!
  for _ in $(seq 1 300); do [ "$(grep -c '^ready' "$log")" = 2 ] && break; sleep 0.1; done
  pid=$(awk -v r="$victim" '$1 == "ready" && $2 == r {print $3}' "$log")
  if [ -z "$pid" ]; then fail "rank $victim never became ready: $(head -c 400 "$log")"; kill -9 $job; continue; fi
  start=$(date +%s%N)
  kill -9 "$pid"
  # Wait at most 30 s for mpirun to end the job.
  for _ in $(seq 1 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
  if kill -0 $job 2>/dev/null; then
    fail "SIGKILL of rank $victim: the job still runs after 30 s"
    pkill -9 -f "$HELPER"; kill -9 $job
    continue
  fi
  wait $job; rc=$?
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "SIGKILL of rank $victim: job ended in ${elapsed_ms} ms with exit code $rc"
  check "SIGKILL of rank $victim ends the job with a non-zero exit" test "$rc" -ne 0
  check "no rank of the job is left behind" bash -c "! pgrep -f '^$HELPER' >/dev/null"
  rm -f "$log"
done
finish
