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

# The environment is rebuilt when requirements.txt or the interpreter changes.
PYTHON=/usr/bin/python3
stamp="$SEGTRAIN_VENV/.segtrain-stamp"
want="$(sha256sum "$SEGTRAIN_ROOT/requirements.txt" | cut -d' ' -f1) $("$PYTHON" --version 2>&1)"
if [ ! -x "$SEGTRAIN_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating the Python environment in $SEGTRAIN_VENV (torch and friends, a few minutes)"
  rm -rf "$SEGTRAIN_VENV"
  mkdir -p "$(dirname "$SEGTRAIN_VENV")"
  "$PYTHON" -m venv "$SEGTRAIN_VENV"
  "$SEGTRAIN_VENV/bin/pip" install -q --disable-pip-version-check -r "$SEGTRAIN_ROOT/requirements.txt"
  echo "$want" > "$stamp"
fi
