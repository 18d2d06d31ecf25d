#!/usr/bin/env bash
# segtrain on two simulated nodes (tests/multinode/bed.sh: network + UTS namespaces, veths to a
# bridge, Open MPI's daemons started through tests/multinode/rsh_agent.sh), launched as users
# launch it: NNODES=2 HOSTFILE=... scripts/dist_train.sh CONFIG 2 on the first node.
#  - the nodes are distinct for Open MPI (without its TCP transport they cannot reach each other);
#    the log names 4 ranks on 2 nodes and each rank's node, local rank and device; the gradients
#    and SyncBN's statistics cross the links (bytes counted on them);
#  - the final weights are bitwise those of the same run on one node (--deterministic);
#  - all ranks of the node without rank 0, then of rank 0's node, SIGKILLed: the job ends non-zero
#    within 30 s and nothing of it runs on any node; --auto-resume continues from latest.pth;
#  - a work_dir the nodes do not share stops the job at its start, naming the folder and the node.
# Needs root (namespaces); exit 77 (skipped) without it.
# Usage: test_multinode.sh SEGTRAIN
set -u
SEGTRAIN="$(realpath "$1")"
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/e2e_lib.sh
source tests/multinode/bed_lib.sh
printf 'node1 slots=2\nnode2 slots=2\n' >"$T/hostfile"
export SEGTRAIN_BIN="$SEGTRAIN" SEGTRAIN_BED="$BED" OMPI_MCA_plm_rsh_agent="$PWD/tests/multinode/rsh_agent.sh"

tiny_shards "$T"
tiny_options "$T"
OPTS+=(log_config.interval=1 evaluation.interval=1000)
# dist_train.sh on node1 with 2 ranks on each of the 2 nodes, at most 5 minutes; extra arguments
# go to segtrain (variables set before the call, as MPIRUN_ARGS=..., reach dist_train.sh too).
train_two_nodes() {
  timeout -k 5 300 tests/multinode/bed.sh exec "$BED" node1 \
    env NNODES=2 HOSTFILE="$T/hostfile" ./scripts/dist_train.sh "$DEMO" 2 "$@"
}
# Bytes NODE has sent on its link (/proc/net/dev of its namespace: face, 8 receive fields, sent bytes).
link_bytes() { on_node "$1" awk '$1 == "eth0:" { print $10 }' /proc/net/dev; }
SAME_WEIGHTS='
import sys, torch
a = torch.load(sys.argv[1], weights_only=False); b = torch.load(sys.argv[2], weights_only=False)
bad = [k for k in a["state_dict"] if not torch.equal(a["state_dict"][k], b["state_dict"][k])]
assert a["meta"]["iter"] == b["meta"]["iter"] and a["state_dict"].keys() == b["state_dict"].keys() and not bad, bad[:5]
'

test_bed() {
  expect_exit 0 "mpirun from node1 starts ranks on both nodes" -- on_node node1 mpirun --hostfile "$T/hostfile" \
    -np 4 --map-by ppr:2:node --bind-to none sh -c 'echo "$OMPI_COMM_WORLD_RANK $(hostname) $OMPI_COMM_WORLD_LOCAL_RANK"'
  check "ranks 0,1 on node1 and 2,3 on node2, local ranks 0,1 on each" \
    test "$(sort "$OUT" | tr '\n' ' ')" = "0 node1 0 1 node1 1 2 node2 0 3 node2 1 "
  check "the bed's nodes cannot reach this machine's network" on_node node1 bash -c '! ip route get 1.1.1.1 >/dev/null 2>&1'
}

test_two_nodes_equal_one() {
  local run=(--deterministic --seed 5 "${OPTS[@]}" runner.max_iters=6 checkpoint_config.interval=6)
  expect_exit 0 "4 ranks on one node" -- ./scripts/dist_train.sh "$DEMO" 4 --work-dir "$T/one" "${run[@]}"
  local tx1 tx2
  tx1="$(link_bytes node1)"; tx2="$(link_bytes node2)"
  # Pinned to cores (DIST_BIND=core): the mapping of 2 ranks per node keeps its share of cores.
  DIST_BIND=core expect_exit 0 "4 ranks on 2 nodes (DIST_BIND=core dist_train.sh NNODES=2 HOSTFILE=...)" -- \
    train_two_nodes --work-dir "$T/two" "${run[@]}"
  local pe=$(($(nproc) / 2)); [ "$pe" -ge 1 ] || pe=1   # dist_train.sh's share of cores per rank
  check "mpirun maps 2 ranks per node, $pe core(s) each" grep -q -- "--map-by ppr:2:node:PE=$pe --bind-to core" "$ERR"
  tx1=$(($(link_bytes node1) - tx1)); tx2=$(($(link_bytes node2) - tx2))
  check "the log says 4 ranks on 2 nodes" grep -qs 'Distributed training: 4 ranks on 2 node(s), device of rank 0: cpu' "$T"/two/*.log
  check "and each rank's node, local rank and device" bash -c "grep -A2 'Ranks by node:' $T/two/*.log | \
    grep -cxE 'node1: rank 0 \(local 0, cpu\), rank 1 \(local 1, cpu\)|node2: rank 2 \(local 0, cpu\), rank 3 \(local 1, cpu\)' | grep -qx 2"
  check "the JSON log's num_nodes is 2" grep -qs '"num_nodes":2' "$T"/two/*.log.json
  check "final weights bitwise equal to the one-node run's" ./scripts/py -c "$SAME_WEIGHTS" "$T/one/iter_6.pth" "$T/two/iter_6.pth"
  check "only rank 0's files in the work_dir (one log, one JSON log, one config dump)" \
    test "$(ls "$T/two" | grep -c '\.log$')/$(ls "$T/two" | grep -c '\.log\.json$')/$(ls "$T/two" | grep -c '\.yaml$')" = 1/1/1
  # Every iteration's summed gradient has to cross between the nodes, both ways: at least 4 bytes
  # per parameter per iteration on each node's link.
  local params
  params="$(sed -n 's/.* with FCNHead, \([0-9]*\) parameters.*/\1/p' "$T"/two/*.log | head -n 1)"
  check "each node sent >= 6 x ${params:-?} x 4 bytes (node1 $tx1, node2 $tx2)" \
    test "${params:-0}" -gt 0 -a "$tx1" -ge $((6 * ${params:-0} * 4)) -a "$tx2" -ge $((6 * ${params:-0} * 4))
  # Open MPI's own verdict; the ranks then fail in MPI_Init's collectives (exit 1, or a crash).
  MPIRUN_ARGS="--mca btl self,vader" train_two_nodes --work-dir "$T/notcp" "${run[@]}" >/dev/null 2>"$T/notcp.err"
  local code=$?
  check "without Open MPI's TCP transport (btl self,vader) the job fails (exit $code): node1 and node2 cannot reach each other" \
    bash -c "[ $code != 0 ] && grep -q 'unable to reach each other' '$T/notcp.err' && grep -q 'is on host: node2' '$T/notcp.err'"
}

# SIGKILL of every rank on NODE while the job trains: the job ends non-zero within 30 s, nothing
# of it runs on any node, and --auto-resume continues from latest.pth.
test_node_lost() {
  local node="$1" wd="$T/lost_$1" job start code k
  train_two_nodes --work-dir "$wd" --seed 3 "${OPTS[@]}" runner.max_iters=1000 checkpoint_config.interval=2 \
    >"$T/lost_$node.out" 2>&1 &
  job=$!
  check "the job to break trains on 2 nodes" wait_for_log "$wd" 'Iter \[5/1000\]' 120
  local pids
  pids="$(ranks_on "$node" | tr '\n' ' ')"
  check "$node runs 2 ranks (${pids:-none})" test "$(echo "$pids" | wc -w)" = 2
  start=$SECONDS
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  wait "$job"; code=$?
  check "all ranks of $node killed: the job ends non-zero (got $code) within 30 s (took $((SECONDS - start)) s)" \
    test "$code" != 0 -a $((SECONDS - start)) -le 30
  check "no rank runs on node1 or node2 within 30 s" no_rank_left_within_30s "$start"
  k="$(./scripts/py -c "import sys, torch; print(torch.load(sys.argv[1], weights_only=False)['meta']['iter'])" "$wd/latest.pth" 2>/dev/null)"
  check "latest.pth holds an iteration (${k:-none})" test -n "$k"
  expect_exit 0 "--auto-resume on the 2 nodes after losing $node" -- train_two_nodes --work-dir "$wd" --auto-resume \
    --seed 3 "${OPTS[@]}" runner.max_iters=$((${k:-0} + 2)) checkpoint_config.interval=2
  check "resumed at iteration $k" grep -qs "resumed from $wd/latest.pth at iteration ${k:-none}$" "$wd"/*.log
  check "and trained on to iteration $((${k:-0} + 2))" test -f "$wd/iter_$((${k:-0} + 2)).pth"
}

test_unshared_work_dir() {
  mkdir -p "$T/node_local"
  SEGTRAIN_BED_UNSHARED_DIR="$T/node_local" expect_exit 2 "a work_dir that node2 does not share" -- \
    train_two_nodes --work-dir "$T/node_local/wd" "${OPTS[@]}" runner.max_iters=2
  check "one line names the folder and the node" grep -qF \
    "segtrain: error: $T/node_local/wd: the work_dir is not shared by the job's nodes: node node2 (rank 2)" "$ERR"
  check "no checkpoint was written" test ! -e "$T/node_local/wd/latest.pth"
}

test_bed
test_two_nodes_equal_one
test_node_lost node2
test_node_lost node1
test_unshared_work_dir
finish
