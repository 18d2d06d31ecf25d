#!/usr/bin/env bash
# Open MPI's remote shell on the bed (plm_rsh_agent): "ssh NODE COMMAND..." becomes COMMAND run
# by sh in NODE's namespaces, with a fresh login-like environment as ssh gives (so what a rank
# needs must travel as mpirun -x sends it on a real cluster). The bed's folder comes from
# SEGTRAIN_BED. SEGTRAIN_BED_UNSHARED_DIR (optional): a folder that the nodes reached through
# this agent see as an empty tmpfs of their own, a filesystem the nodes do not share.
set -eu
bed="${SEGTRAIN_BED:?rsh_agent.sh: set SEGTRAIN_BED to the bed folder (tests/multinode/bed.sh start)}"
[ $# -ge 2 ] || { echo "usage: $0 NODE COMMAND..." >&2; exit 2; }
node="$1"; shift
command="$*"
# bed.sh exec gives the command a mount namespace of its own: the tmpfs is seen there only.
[ -z "${SEGTRAIN_BED_UNSHARED_DIR:-}" ] || command="mount -t tmpfs bed '$SEGTRAIN_BED_UNSHARED_DIR' && $command"
exec "$(dirname "$0")/bed.sh" exec "$bed" "$node" \
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="${HOME:-/root}" LANG=C.UTF-8 sh -c "$command"
