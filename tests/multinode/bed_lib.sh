# What the multi-node tests share (source it from the repository root after tests/e2e/e2e_lib.sh):
# a 2-node bed in a fresh folder $T that is taken down on exit, also when the test fails or times
# out, and probes of what runs on a node. Needs root (namespaces): exit 77 (skipped) without it.
[ "$(id -u)" = 0 ] || { echo "skipped: the bed's namespaces need root"; exit 77; }
T="$(mktemp -d)"
BED="$T/bed"
# Daemons of a Slurm cluster on the bed ($T/cluster) first, then the bed, then what is left.
cleanup() {
  "$ROOT/tests/slurm/cluster.sh" stop "$T/cluster"
  "$ROOT/tests/multinode/bed.sh" stop "$BED"
  pkill -KILL -f "$T/" 2>/dev/null
  rm -rf "$T"
}
ROOT="$PWD"
trap cleanup EXIT
trap 'exit 1' INT TERM
# A test killed before its trap can run (meson's timeout: SIGTERM, then SIGKILL to the test's
# process group) is cleaned up by a watcher in a session of its own, once the test is gone.
T="$T" BED="$BED" ROOT="$ROOT" setsid bash -c "$(declare -f cleanup)
  while kill -0 $$ 2>/dev/null; do sleep 1; done
  cleanup" </dev/null >/dev/null 2>&1 &
tests/multinode/bed.sh start "$BED" 2 || { echo "FAIL: the bed did not start"; exit 1; }

on_node() { local node="$1"; shift; tests/multinode/bed.sh exec "$BED" "$node" "$@"; }
# The pids of the segtrain processes running on NODE (those in its network namespace).
ranks_on() {
  local pid
  for pid in $(ip netns pids "sb$(printf %s "$BED" | md5sum | cut -c1-6)-$1" 2>/dev/null); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = segtrain ] && echo "$pid"
  done
}
# After SIGKILL at START (in $SECONDS): waits until no rank runs on any node, at most 30 s from START.
no_rank_left_within_30s() {
  local start="$1"
  until [ -z "$(ranks_on node1)$(ranks_on node2)" ] || [ $((SECONDS - start)) -gt 30 ]; do sleep 0.2; done
  [ -z "$(ranks_on node1)$(ranks_on node2)" ]
}
