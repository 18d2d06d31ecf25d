#!/usr/bin/env bash
# Installs what is missing: Debian packages and the Python environment (outside the clone, so
# CI runs on the same machine reuse it). Idempotent; quiet when everything is there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

APT_PACKAGES=(
  build-essential pkg-config git procps python3 python3-venv
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools hdf5-filter-plugin hdf5-filter-plugin-blosc-serial
  libcxxopts-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev
  zlib1g-dev liblz4-dev libblosc-dev libpng-dev
  # tests/slurm runs a one-node Slurm (srun --mpi=pmix loads the unversioned libpmix.so)
  slurmctld slurmd slurm-client munge libpmix-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The environment is made once per interpreter; a changed requirements.txt is applied in place
# (pip installs only what differs), so adding a package does not download torch again.
PYTHON=/usr/bin/python3
stamp="$SEGTRAIN_VENV/.segtrain-stamp"
interpreter="$("$PYTHON" --version 2>&1)"
want="$(sha256sum "$SEGTRAIN_ROOT/requirements.txt" | cut -d' ' -f1) $interpreter"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ ! -x "$SEGTRAIN_VENV/bin/python" ] || [ "${have#* }" != "$interpreter" ]; then
  echo "setup: creating the Python environment in $SEGTRAIN_VENV (torch and friends, a few minutes)"
  rm -rf "$SEGTRAIN_VENV"
  mkdir -p "$(dirname "$SEGTRAIN_VENV")"
  "$PYTHON" -m venv "$SEGTRAIN_VENV"
  have=""
fi
if [ "$have" != "$want" ]; then
  echo "setup: installing requirements.txt into $SEGTRAIN_VENV"
  "$SEGTRAIN_VENV/bin/pip" install -q --disable-pip-version-check -r "$SEGTRAIN_ROOT/requirements.txt"
  echo "$want" > "$stamp"
fi

# The test-only MMSegmentation reference (requirements-reference.txt says why it is apart).
reference="$SEGTRAIN_CACHE/mmseg-reference"
want="$(sha256sum "$SEGTRAIN_ROOT/requirements-reference.txt" | cut -d' ' -f1)"
if [ "$(cat "$reference/.segtrain-stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "setup: installing requirements-reference.txt into $reference"
  rm -rf "$reference" "$reference.tmp"
  pip_target=("$SEGTRAIN_VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target "$reference.tmp")
  grep -v '^mmcv==' "$SEGTRAIN_ROOT/requirements-reference.txt" > "$SEGTRAIN_CACHE/reference-wheels.txt"
  "${pip_target[@]}" -r "$SEGTRAIN_CACHE/reference-wheels.txt"
  grep '^mmcv==' "$SEGTRAIN_ROOT/requirements-reference.txt" > "$SEGTRAIN_CACHE/reference-mmcv.txt"
  PYTHONPATH="$reference.tmp" MMCV_WITH_OPS=0 "${pip_target[@]}" --no-build-isolation -r "$SEGTRAIN_CACHE/reference-mmcv.txt"
  rm -f "$SEGTRAIN_CACHE"/reference-{wheels,mmcv}.txt
  echo "$want" > "$reference.tmp/.segtrain-stamp"
  mv "$reference.tmp" "$reference"
fi
