# Sourced by the other scripts: where things live. One place for these paths.
SEGTRAIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEGTRAIN_CACHE="${SEGTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/segtrain}"
SEGTRAIN_VENV="${SEGTRAIN_VENV:-$SEGTRAIN_CACHE/venv}"
SEGTRAIN_BUILD="$SEGTRAIN_ROOT/build"
# Open MPI refuses root without these; CI runs as root.
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export PATH="$SEGTRAIN_VENV/bin:$PATH"
