#!/usr/bin/env bash
# Trains under Slurm with srun, as MMSegmentation's tools/slurm_train.sh does:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     scripts/slurm_train.sh PARTITION JOB_NAME CONFIG [segtrain args...]
# One task per GPU; the ranks find each other through PMIx (srun --mpi=pmix), so there is no
# MASTER_PORT to pick. Environment:
#   GPUS           tasks (ranks) in all, default 4
#   GPUS_PER_NODE  tasks per node, default 4, at most GPUS; --gres=gpu:N is requested only when
#                  the partition has GPUs, so the same command runs on a CPU partition
#   CPUS_PER_TASK  default 5; also OMP_NUM_THREADS unless that is set
#   SRUN_ARGS      more srun options, split on spaces (e.g. "--time=1:00:00 --nodes=2")
#   SEGTRAIN_BIN   the binary, default build/segtrain of this checkout
# For a job that requeues itself when preempted, see scripts/slurm_train.sbatch.
set -eu
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

usage() {
  echo "usage: [GPUS=N] [GPUS_PER_NODE=N] [CPUS_PER_TASK=N] [SRUN_ARGS=...] $0 PARTITION JOB_NAME CONFIG [segtrain args...]" >&2
  exit 2
}
[ $# -ge 3 ] || usage
partition="$1"; job_name="$2"; config="$3"; shift 3

# A count from the environment: digits only, or a one-line error naming the variable.
count() {
  local name="$1" value="$2"
  [[ "$value" =~ ^[0-9]+$ ]] || { echo "$0: $name must be a whole number, got '$value'" >&2; exit 2; }
  echo "$((10#$value))"
}
gpus="$(count GPUS "${GPUS:-4}")"
gpus_per_node="$(count GPUS_PER_NODE "${GPUS_PER_NODE:-4}")"
cpus_per_task="$(count CPUS_PER_TASK "${CPUS_PER_TASK:-5}")"
[ "$gpus" -ge 1 ] || { echo "$0: GPUS must be at least 1 (it is the number of ranks)" >&2; exit 2; }
[ "$cpus_per_task" -ge 1 ] || { echo "$0: CPUS_PER_TASK must be at least 1" >&2; exit 2; }
[ "$gpus_per_node" -le "$gpus" ] || gpus_per_node="$gpus"

for port_var in MASTER_PORT PORT; do
  if [ -n "${!port_var:-}" ]; then
    echo "$0: note: $port_var is not used; the ranks meet through MPI (PMIx), not a TCP port" >&2
  fi
done

segtrain="${SEGTRAIN_BIN:-$SEGTRAIN_BUILD/segtrain}"
if [ ! -x "$segtrain" ]; then
  echo "$0: $segtrain: no segtrain binary there (build it with scripts/build.sh, or set SEGTRAIN_BIN)" >&2
  exit 2
fi
[ -f "$config" ] || { echo "$0: $config: no such config file" >&2; exit 2; }

srun_args=(-p "$partition" --job-name="$job_name" --ntasks="$gpus" --cpus-per-task="$cpus_per_task"
           --kill-on-bad-exit=1 --mpi=pmix)
if [ "$gpus_per_node" -ge 1 ]; then
  srun_args+=(--ntasks-per-node="$gpus_per_node")
  # %G lists the partition's generic resources, e.g. "gpu:a100:8", or "(null)".
  if sinfo -h -p "$partition" -o %G 2>/dev/null | grep -q gpu; then
    srun_args+=(--gres="gpu:$gpus_per_node")
  fi
fi
# shellcheck disable=SC2206 # SRUN_ARGS is split on spaces on purpose, as in MMSegmentation's script
srun_args+=(${SRUN_ARGS:-})

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$cpus_per_task}"
echo "+ srun ${srun_args[*]} $segtrain $config $*" >&2
exec srun "${srun_args[@]}" "$segtrain" "$config" "$@"
