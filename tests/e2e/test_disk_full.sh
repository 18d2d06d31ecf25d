#!/usr/bin/env bash
# Disk full: a 2-rank run whose work_dir is on a small tmpfs (in a mount namespace of its own, so
# nothing outlives the test) fails at the checkpoint that does not fit, with one line naming the
# file and the reason; latest.pth and the earlier checkpoints stay whole; no temp file is left.
# Then a disk that fills while the run logs: the run ends at the next logging interval with one
# line naming the log file and the reason.
# Usage: test_disk_full.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.."
source tests/e2e/e2e_lib.sh
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
tiny_shards "$T"
RUN=(--options "data.train.data_root=$T/shards" "data.val.data_root=$T/shards" data.samples_per_gpu=2
     "data.train.pipeline.2.img_scale=[48,40]" evaluation.interval=100 checkpoint_config.interval=2 log_config.interval=1)

# One checkpoint's size, from a run on the ordinary disk.
expect_exit 0 "a run to size a checkpoint" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/probe" "${RUN[@]}" runner.max_iters=2
C=$(stat -c %s "$T/probe/latest.pth")
# Room for iter_2.pth, latest.pth, the logs and the config, not for iter_4.pth as well.
SIZE=$(( C * 5 / 2 ))
mkdir -p "$T/disk" "$T/after"
expect_exit 1 "the run on a full disk fails" -- unshare --mount --propagation private bash -c '
  mount -t tmpfs -o size="$1" segtrain-test "$2/disk" || { echo "cannot mount a tmpfs" >&2; exit 3; }
  dir="$2"; shift 2
  "$@"; rc=$?
  cp -a "$dir/disk/wd" "$dir/after/"
  exit $rc' _ "$SIZE" "$T" mpirun --oversubscribe --bind-to none -np 2 "$SEGTRAIN" "$DEMO" --work-dir "$T/disk/wd" "${RUN[@]}" runner.max_iters=6
check "one error line naming the file and the reason" \
  test -n "$(grep -F "segtrain: error: $T/disk/wd/iter_4.pth: cannot write: No space left on device" "$ERR")" \
       -a "$(grep -c 'segtrain: error' "$ERR")" = 1
check "latest.pth and iter_2.pth are whole, at iteration 2; no iter_4.pth, no temp file" ./scripts/py -c "
import os, sys, torch
wd = sys.argv[1]
assert sorted(os.listdir(wd)) == sorted(f for f in os.listdir(wd) if not f.startswith('.')), os.listdir(wd)
assert not os.path.exists(wd + '/iter_4.pth')
for f in ('latest.pth', 'iter_2.pth'):
    assert torch.load(wd + '/' + f, weights_only=False)['meta']['iter'] == 2, f
" "$T/after/wd"

# The disk fills up under a running job: a filler file takes the tmpfs's last bytes once the log
# has 5 iteration lines; no checkpoint or evaluation is due, so the log is what fails.
expect_exit 1 "a run whose log fills the disk fails" -- unshare --mount --propagation private bash -c '
  mount -t tmpfs -o size=4m segtrain-test "$1/disk" || { echo "cannot mount a tmpfs" >&2; exit 3; }
  dir="$1"; shift
  "$@" & pid=$!
  for _ in $(seq 600); do
    [ "$(cat "$dir"/disk/wd2/*.log 2>/dev/null | grep -c "Iter \[")" -ge 5 ] && break
    sleep 0.1
  done
  dd if=/dev/zero of="$dir/disk/filler" bs=64k 2>/dev/null
  wait $pid' _ "$T" mpirun --oversubscribe --bind-to none -np 2 "$SEGTRAIN" "$DEMO" --work-dir "$T/disk/wd2" "${RUN[@]}" \
  runner.max_iters=100000 checkpoint_config.interval=100000 evaluation.interval=100000
check "one error line naming the log file and the reason" \
  test -n "$(grep -E "segtrain: error: $T/disk/wd2/[0-9_]+\.log(\.json)?: cannot write: No space left on device" "$ERR")" \
       -a "$(grep -c 'segtrain: error' "$ERR")" = 1
finish
