#!/usr/bin/env bash
# Trains on this machine with GPUS ranks, as MMSegmentation's tools/dist_train.sh does:
#   [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=...] [PORT=...] scripts/dist_train.sh CONFIG GPUS [segtrain args...]
# The ranks are started by one mpirun and meet through MPI, so there is no TCP port: PORT and
# MASTER_PORT are accepted and ignored, and MMSeg's "Address already in use" between two jobs on
# one machine cannot happen. Each rank uses the GPU of its local rank; split a machine's GPUs
# between jobs with CUDA_VISIBLE_DEVICES (README, "Two jobs on one machine").
# Environment:
#   NNODES, NODE_RANK, MASTER_ADDR  several nodes: run this once, on one node, with
#                                   HOSTFILE naming the nodes (Open MPI hostfile, one line per node,
#                                   "node1 slots=8"); NODE_RANK > 0 has nothing to do
#   HOSTFILE                        an Open MPI hostfile: GPUS ranks on each of its NNODES nodes
#   OMP_NUM_THREADS                 default: this machine's cores / GPUS (at least 1)
#   DIST_BIND                       none (default: threads float, so neighbouring jobs do not pin
#                                   the same cores) or core (each rank pinned to its share of cores)
#   MPIRUN_ARGS                     more mpirun options, split on spaces
#   SEGTRAIN_BIN                    the binary, default build/segtrain of this checkout
set -eu
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"   # also lets Open MPI run as root (CI, containers)

usage() {
  echo "usage: [NNODES=N HOSTFILE=F] [MPIRUN_ARGS=...] $0 CONFIG GPUS [segtrain args...]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
config="$1"; shift
[[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] || { echo "$0: GPUS must be a whole number >= 1, got '$1'" >&2; exit 2; }
gpus="$((10#$1))"; shift
nnodes="${NNODES:-1}"; node_rank="${NODE_RANK:-0}"
[[ "$nnodes" =~ ^[0-9]+$ ]] && [ "$nnodes" -ge 1 ] || { echo "$0: NNODES must be a whole number >= 1, got '$nnodes'" >&2; exit 2; }
[[ "$node_rank" =~ ^[0-9]+$ ]] || { echo "$0: NODE_RANK must be a whole number, got '$node_rank'" >&2; exit 2; }
if [ "$node_rank" -gt 0 ]; then
  echo "$0: NODE_RANK=$node_rank: with MPI one mpirun, on the first node, starts the ranks of every node" \
       "(NNODES=$nnodes HOSTFILE=... $0 CONFIG GPUS there); nothing to start here" >&2
  exit 2
fi
if [ "$nnodes" -gt 1 ] && [ -z "${HOSTFILE:-}" ]; then
  echo "$0: NNODES=$nnodes needs HOSTFILE, an Open MPI hostfile naming the nodes (see the README)" >&2
  exit 2
fi
[ -z "${HOSTFILE:-}" ] || [ -f "$HOSTFILE" ] || { echo "$0: HOSTFILE $HOSTFILE: no such file" >&2; exit 2; }
for port_var in PORT MASTER_PORT; do
  [ -z "${!port_var:-}" ] || echo "$0: note: $port_var is not used; the ranks meet through MPI, not a TCP port" >&2
done
[ -f "$config" ] || { echo "$0: $config: no such config file" >&2; exit 2; }
segtrain="${SEGTRAIN_BIN:-$SEGTRAIN_BUILD/segtrain}"
[ -x "$segtrain" ] || { echo "$0: $segtrain: no segtrain binary there (scripts/build.sh builds it, or set SEGTRAIN_BIN)" >&2; exit 2; }

cores="$(nproc)"
per_rank=$(( cores / gpus )); [ "$per_rank" -ge 1 ] || per_rank=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$per_rank}"
mpirun_args=(-np "$((gpus * nnodes))" -x OMP_NUM_THREADS)
# Several nodes: GPUS ranks on each node of the hostfile.
map_by=slot
if [ "$nnodes" -gt 1 ]; then
  mpirun_args+=(--hostfile "$HOSTFILE")
  map_by="ppr:$gpus:node"
fi
# Open MPI's default binds each rank to one core (or socket), which starves torch's threads.
case "${DIST_BIND:-none}" in
  none) [ "$map_by" = slot ] || mpirun_args+=(--map-by "$map_by"); mpirun_args+=(--bind-to none) ;;
  core) mpirun_args+=(--map-by "$map_by:PE=$per_rank" --bind-to core) ;;
  *) echo "$0: DIST_BIND must be none or core, got '$DIST_BIND'" >&2; exit 2 ;;
esac
# More ranks than cores (CPU runs on a small machine): allowed, not an error.
[ "$nnodes" -gt 1 ] || [ "$gpus" -le "$cores" ] || mpirun_args+=(--oversubscribe)
# shellcheck disable=SC2206 # MPIRUN_ARGS is split on spaces on purpose
mpirun_args+=(${MPIRUN_ARGS:-})
set -x
exec mpirun "${mpirun_args[@]}" "$segtrain" "$config" "$@"
