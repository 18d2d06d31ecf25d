#!/usr/bin/env bash
# Builds segtrain on the borrowed GPU machine and times it there. That machine (Ubuntu 24.04, CUDA,
# g++, a python3 holding torch, meson and ninja) has no network and none of Open MPI, HDF5,
# yaml-cpp, spdlog, fmt, cxxopts, nlohmann-json, libpng, lz4, blosc or pkg-config, so Debian 12's
# packages of them travel along in .devdeps/ (git-ignored; the run tool's `carry`).
#
# Here (Debian 12, with the package registries):
#   scripts/device_check.sh --fetch    fill .devdeps/debs and .devdeps/wheels, write .devdeps/MANIFEST
#   scripts/device_check.sh --verify   unpack them into a scratch root as the device will, then check
#                                      that every library's needs are met and every pkg-config module resolves
#   DEVICE_CHECK_DRY=1 scripts/device_check.sh [STEP ...]    print the plan, run nothing
# On the device (as root, from the repository root; what lands in $OUT comes back):
#   scripts/device_check.sh [STEP ...]
#   default: install build nccl_one_rank:50 dist_tests resume_cuda fp16_dynamic:60 compute_sanitizer:3
#            gpu_step demo:200 cityscapes:60 reference:fcn_r50:60 reference:fcn_r18:200
# A STEP is a name and its arguments joined by ':':
#   install                  unpack .devdeps into /, links, ldconfig, meson wheel, smoke checks
#   build                    meson setup build-device (CUDA on) + ninja segtrain, all cores
#   demo[:ITERS]             run_demo_cuda: configs/demo on synthetic 128x96 data, then evaluation
#   cityscapes[:ITERS]       run_cityscapes_size: fcn_r50-d8 512x1024 on synthetic 1024x512 data
#   reference[:ARCH[:ITERS[:BATCH[:CROP]]]]   run_reference: bench/train_step/reference_train.py
#   nccl_one_rank[:ITERS]    the demo with dist_params.collectives_on_one_rank=true: NCCL on one GPU
#   dist_tests               the dist suite's binary, one rank, on the GPU machine
#   resume_cuda              a resumed run ends where an uninterrupted one does (cuda_rng)
#   compute_sanitizer[:ITERS]  memcheck and racecheck over nccl_one_rank's run, if the image has it
#   precision[:ITERS]        fp32/fp16/bf16 x channels_last, segtrain and the reference, Cityscapes size
#   fp16_dynamic[:ITERS]     the demo in fp16 from a loss scale of 2^24: overflows skipped, scale backs off
#   gpu_step[:ITERS[:SET]]   bench/gpu_step: PSPNet, DeepLabV3+, UPerNet at 512x1024 against PyTorch; SET
#                            quick (default: fp32 NCHW, fp16 and bf16 channels_last, with_cp in fp32)
#                            or full (3 precisions x 2 layouts, with_cp in each); bounded by the budget
#   or any function of this file by name, e.g. run_cityscapes_size:30:data.workers_per_gpu=8
# Or `source scripts/device_check.sh` and call the functions (install_devdeps, build_segtrain,
# run_demo_cuda ITERS [KEY=VALUE ...], run_cityscapes_size ITERS [KEY=VALUE ...], run_reference ...).
#
# Output: $OUT/device_check.log (everything, timestamped), $OUT/summary.jsonl (one line a run:
# median s/iter and peak memory from segtrain's .log.json, the reference's own JSON line), and each
# run's <name>.log.json. Knobs (environment): DEVICE_CHECK_JOBS (cores), DEVICE_CHECK_BUDGET_S (steps
# are skipped past it, default 480), DEVICE_CHECK_RUN_TIMEOUT_S (one run, default 180),
# DEVICE_CHECK_COMPRESSION (shards: none|gzip, default none), DEVICE_CHECK_CS_SIZE (default 1024x512).

# ---- what travels ------------------------------------------------------------------------------
# The build's -dev packages and the closure of their runtime libraries, as apt resolves it on a
# system with only Debian's 'required' packages and g++, less what segtrain never loads: Fortran
# (gfortran, the HDF5 Fortran and C++ libraries), hwloc's plugins (X11, OpenCL, libxml2 + ICU),
# the autotools, ssh (one node: Open MPI is told to need none), and -dev packages of
# dependencies (nothing links them statically). Plus libraries whose Debian 12 soname a plain
# Ubuntu 24.04 may lack (libunistring2, libudev1, Kerberos for libcurl, libatomic1).
DEVDEPS_DEBS=(
  # build: headers, .so links, .pc files, pkg-config itself
  libopenmpi-dev libhdf5-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcxxopts-dev
  nlohmann-json3-dev libpng-dev zlib1g-dev liblz4-dev libblosc-dev libgtest-dev
  pkgconf pkgconf-bin libpkgconf3
  # Open MPI: mpirun and the runtime with its transports' libraries
  openmpi-bin openmpi-common libopenmpi3 libpmix2 libhwloc15 libevent-2.1-7 libevent-core-2.1-7
  libevent-extra-2.1-7 libevent-pthreads-2.1-7 libevent-openssl-2.1-7 libfabric1 libucx0
  libpsm-infinipath1 libpsm2-2 libibverbs1 ibverbs-providers librdmacm1 libnl-3-200
  libnl-route-3-200 libnuma1 libmunge2 libltdl7 libatomic1 libudev1
  # HDF5 and the codecs
  libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0 libblosc1 libsnappy1v5 libpng16-16
  libyaml-cpp0.7 libspdlog1.10 libfmt9
  # libhdf5's ros3 driver links libcurl, and libcurl these
  libcurl4 libssl3 libbrotli1 libnghttp2-14 libpsl5 libunistring2 librtmp1 libssh2-1
  libldap-2.5-0 libsasl2-2 libsasl2-modules-db libgssapi-krb5-2 libkrb5-3 libk5crypto3
  libkrb5support0 libkeyutils1 libcom-err2
)
# Python wheels (meson: the project needs >= 1.10, the image's version is unknown). hdf5plugin
# (46 MB) does not fit the 64 MiB tree: the device's shards use --compression none or gzip.
DEVDEPS_WHEELS=(meson)
# pkg-config modules the build asks for (meson.build's dependency() names; mpi is ompi-cxx).
DEVDEPS_PC_MODULES=(ompi-cxx hdf5 yaml-cpp spdlog fmt cxxopts nlohmann_json libpng zlib liblz4 blosc gtest gtest_main)
# Sonames a plain Ubuntu 24.04 has under the same name as Debian 12 (glibc, the gcc runtime, and
# libraries of its 'required' packages); every other library needed must travel.
UBUNTU_BASE_SONAMES="libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1
libresolv.so.2 ld-linux-x86-64.so.2 libgcc_s.so.1 libstdc++.so.6 libz.so.1 libzstd.so.1 liblzma.so.5
libbz2.so.1.0 libcrypt.so.1 libselinux.so.1 libpcre2-8.so.0 libaudit.so.1 libcap-ng.so.0
libcap.so.2 libacl.so.1 libattr.so.1 libgmp.so.10 libnettle.so.8 libhogweed.so.6 libgnutls.so.30
libidn2.so.0 libp11-kit.so.0 libtasn1.so.6 libffi.so.8 libsystemd.so.0 liblz4.so.1
libgcrypt.so.20 libgpg-error.so.0 libxxhash.so.0 libmd.so.0 libtinfo.so.6 libpam.so.0 libuuid.so.1
libblkid.so.1 libmount.so.1 libdb-5.3.so"
# Open MPI's Fortran bindings need libgfortran, which does not travel: nothing here loads them.
NEEDED_CHECK_IGNORE='openmpi/lib/libmpi_(mpifh|usempi)|libopen-rte.*fort|libhdf5.*fortran'

# ---- settings ------------------------------------------------------------------------------------
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEVDEPS="$ROOT_DIR/.devdeps"
BUILD_DIR="$ROOT_DIR/build-device"
STAGE=/tmp/segtrain-devdeps-stage
PY_SITE=/tmp/segtrain-site
DATA=/tmp/segtrain-device-data
RUNS=/tmp/segtrain-device-runs
JOBS="${DEVICE_CHECK_JOBS:-$(nproc)}"
BUDGET_S="${DEVICE_CHECK_BUDGET_S:-480}"
RUN_TIMEOUT_S="${DEVICE_CHECK_RUN_TIMEOUT_S:-180}"
COMPRESSION="${DEVICE_CHECK_COMPRESSION:-none}"
CS_SIZE="${DEVICE_CHECK_CS_SIZE:-1024x512}"
DRY="${DEVICE_CHECK_DRY:-}"
OUT_DIR="${OUT:-/tmp/device_check_out}"
LOG="$OUT_DIR/device_check.log"
SUMMARY="$OUT_DIR/summary.jsonl"
mkdir -p "$OUT_DIR"

# ---- helpers -------------------------------------------------------------------------------------
log() { printf '[%s +%ss] %s\n' "$(date +%H:%M:%S)" "$SECONDS" "$*"; }
die() { log "FAILED: $*"; exit 1; }
# Runs a command, or only shows it in the dry run.
x() {
  log "+ $*"
  [ -n "$DRY" ] && return 0
  "$@"
}
have_deb_files() { compgen -G "$DEVDEPS/debs/*.deb" >/dev/null; }
on_device_only() {
  [ -n "$DRY" ] && return 0
  command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && return 0
  [ -n "${DEVICE_CHECK_FORCE:-}" ] ||
    die "no GPU here (nvidia-smi -L failed): this step is for the device; set DEVICE_CHECK_FORCE=1 to insist"
}

# ---- here: fetch and verify ----------------------------------------------------------------------
fetch_devdeps() {
  x mkdir -p "$DEVDEPS/debs" "$DEVDEPS/wheels"
  [ -n "$DRY" ] || rm -f "$DEVDEPS"/debs/*.deb "$DEVDEPS"/wheels/*.whl
  x apt-get update -qq
  (cd "$DEVDEPS/debs" && x apt-get download -q "${DEVDEPS_DEBS[@]}") || die "apt-get download failed"
  local specs=() w v
  for w in "${DEVDEPS_WHEELS[@]}"; do  # the version pinned in requirements.txt
    v="$(grep -i "^$w==" "$ROOT_DIR/requirements.txt" | head -n 1)"
    specs+=("${v:-$w}")
  done
  x python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$DEVDEPS/wheels" "${specs[@]}" || die "pip download failed"
  [ -n "$DRY" ] && return 0
  local f
  for f in "$DEVDEPS"/debs/*.deb; do dpkg-deb --show --showformat='${Package}=${Version}\n' "$f"; done >"$DEVDEPS/MANIFEST"
  (cd "$DEVDEPS/wheels" && ls -- *.whl) >>"$DEVDEPS/MANIFEST"
  log "fetched $(ls "$DEVDEPS"/debs/*.deb | wc -l) packages and $(ls "$DEVDEPS"/wheels/*.whl | wc -l) wheel(s):" \
    "$(du -sh "$DEVDEPS" | cut -f1) in $DEVDEPS (the working tree with carry must stay under 64 MiB)"
}

# Every NEEDED soname of every ELF file under ROOT is in ROOT or in UBUNTU_BASE_SONAMES.
check_needed_sonames() {
  local root="$1"
  UBUNTU_BASE_SONAMES="$UBUNTU_BASE_SONAMES" NEEDED_CHECK_IGNORE="$NEEDED_CHECK_IGNORE" python3 - "$root" <<'EOF'
import os, re, subprocess, sys
root = sys.argv[1]
base = set(os.environ["UBUNTU_BASE_SONAMES"].split())
ignore = re.compile(os.environ["NEEDED_CHECK_IGNORE"])
files, elves = set(), []
for d, _, names in os.walk(root):
    for n in names:
        files.add(n)
        p = os.path.join(d, n)
        if os.path.isfile(p) and not os.path.islink(p):
            with open(p, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    elves.append(p)
missing = {}
for p in elves:
    rel = os.path.relpath(p, root)
    if ignore.search(rel):
        continue
    out = subprocess.run(["readelf", "-d", p], capture_output=True, text=True).stdout
    for so in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", out):
        if so not in base and so not in files:
            missing.setdefault(so, []).append(rel)
for so, users in sorted(missing.items()):
    print(f"  missing {so}, needed by {', '.join(users[:4])}{' ...' if len(users) > 4 else ''}")
print(f"  {len(elves)} ELF files checked, {len(missing)} sonames missing")
sys.exit(1 if missing else 0)
EOF
}

# Each module resolves with only the unpacked root's .pc files, and its -I/-L folders exist there.
check_pc_modules() {
  local root="$1" m flags f bad=0
  local libdir="$root/usr/lib/x86_64-linux-gnu"
  for m in "${DEVDEPS_PC_MODULES[@]}"; do
    if ! flags="$(LD_LIBRARY_PATH="$libdir" PKG_CONFIG_SYSROOT_DIR="$root" \
      PKG_CONFIG_LIBDIR="$libdir/pkgconfig:$root/usr/share/pkgconfig" \
      "$root/usr/bin/pkg-config" --cflags --libs "$m" 2>&1)"; then
      echo "  $m: $flags"; bad=1; continue
    fi
    for f in $flags; do
      case "$f" in -I* | -L*) [ -d "${f:2}" ] || { echo "  $m: ${f:2} does not exist"; bad=1; } ;; esac
    done
    echo "  $m: $(LD_LIBRARY_PATH="$libdir" PKG_CONFIG_LIBDIR="$libdir/pkgconfig:$root/usr/share/pkgconfig" \
      "$root/usr/bin/pkg-config" --modversion "$m")"
  done
  return $bad
}

verify_devdeps() {
  have_deb_files || die "no .devdeps/debs/*.deb: run scripts/device_check.sh --fetch first"
  local root=/tmp/segtrain-devroot-verify names
  # Every dependency() of the build must be a module we check (or need no package).
  names="$(grep -ho "dependency('[^']*'" "$ROOT_DIR/meson.build" "$ROOT_DIR/src/meson.build" | cut -d"'" -f2 | sort -u)"
  for n in $names; do
    case "$n" in threads | cuda | "") ;; mpi) ;; *)
      [[ " ${DEVDEPS_PC_MODULES[*]} " == *" $n "* ]] || die "meson asks for dependency '$n', which DEVDEPS_PC_MODULES lacks" ;;
    esac
  done
  rm -rf "$root" && mkdir -p "$root"
  unpack_devdeps "$root"
  log "verify: shared libraries in $root"
  check_needed_sonames "$root" || die "libraries would be missing on the device (add their packages to DEVDEPS_DEBS)"
  log "verify: pkg-config modules"
  check_pc_modules "$root" || die "pkg-config modules do not resolve from the bundle"
  log "verify: OK ($(du -sh "$DEVDEPS" | cut -f1) in .devdeps, $(ls "$DEVDEPS"/debs/*.deb | wc -l) packages)"
}

# ---- device: install -----------------------------------------------------------------------------
# Unpacks the packages into ROOT without replacing anything there (what the image has is what its
# other programs were built against), then makes the links that the packages' postinst scripts
# would make through update-alternatives.
unpack_devdeps() {
  local root="$1" f d
  have_deb_files || { [ -n "$DRY" ] || die "no .devdeps/debs/*.deb: run scripts/device_check.sh --fetch here, carry .devdeps"; }
  x rm -rf "$STAGE"
  x mkdir -p "$STAGE"
  log "+ dpkg-deb -x .devdeps/debs/*.deb $STAGE"
  if [ -z "$DRY" ]; then
    for f in "$DEVDEPS"/debs/*.deb; do dpkg-deb -x "$f" "$STAGE" || die "dpkg-deb -x $f"; done
    # Some Debian 12 packages still ship /lib/...; Ubuntu 24.04's /lib is a link to usr/lib, which a
    # real lib/ folder copied over it would replace: move such files under usr/ first.
    for d in lib lib32 lib64 bin sbin; do
      if [ -d "$STAGE/$d" ] && [ ! -L "$STAGE/$d" ]; then
        mkdir -p "$STAGE/usr/$d" && cp -a "$STAGE/$d/." "$STAGE/usr/$d/" && rm -rf "${STAGE:?}/$d"
      fi
    done
    local kept
    kept="$(cd "$STAGE" && find . ! -type d | while read -r f; do
      if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then echo "${f#./}"; fi
    done)"
    if [ -n "$kept" ]; then
      log "$(wc -l <<<"$kept") file(s) already in $root were kept, among them these libraries and .pc files:"
      grep -E '\.so(\.|$)|\.pc$' <<<"$kept" | head -n 30 | sed 's/^/    /' || true
      if grep -q 'libhdf5_serial\.so\.103' <<<"$kept"; then
        log "WARNING: the image has its own libhdf5_serial.so.103: HDF5 aborts when headers and library differ;" \
          "HDF5_DISABLE_VERSION_CHECK=1 is set"
        export HDF5_DISABLE_VERSION_CHECK=1
      fi
    fi
  fi
  # Top-level entries only (not "."), so that the root folder's own mode stays as it is.
  local tops=()
  [ -n "$DRY" ] || mapfile -t tops < <(ls -A "$STAGE")
  x tar -C "$STAGE" -cf "$STAGE.tar" "${tops[@]}" || die "packing $STAGE"
  x tar -C "$root" -xf "$STAGE.tar" --skip-old-files --keep-directory-symlink || die "unpacking into $root"
  x rm -f "$STAGE.tar"
  local link
  for link in \
    usr/bin/mpirun=mpirun.openmpi usr/bin/mpiexec=mpiexec.openmpi usr/bin/mpicc=mpicc.openmpi \
    usr/bin/mpic++=mpic++.openmpi usr/bin/mpicxx=mpic++.openmpi usr/bin/mpiCC=mpic++.openmpi \
    usr/include/x86_64-linux-gnu/mpi=../../lib/x86_64-linux-gnu/openmpi/include \
    usr/lib/x86_64-linux-gnu/libmpi.so=openmpi/lib/libmpi.so \
    usr/lib/x86_64-linux-gnu/libmpi++.so=openmpi/lib/libmpi_cxx.so \
    usr/lib/x86_64-linux-gnu/pkgconfig/mpi.pc=ompi.pc usr/lib/x86_64-linux-gnu/pkgconfig/mpi-c.pc=ompi-c.pc \
    usr/lib/x86_64-linux-gnu/pkgconfig/mpi-cxx.pc=ompi-cxx.pc \
    usr/lib/x86_64-linux-gnu/pkgconfig/hdf5.pc=hdf5-serial.pc \
    usr/lib/x86_64-linux-gnu/libpsm_infinipath.so.1=../libpsm1/libpsm_infinipath.so.1.16; do
    local path="${root%/}/${link%%=*}" target="${link#*=}"
    if [ -n "$DRY" ]; then log "+ ln -s $target $path (unless it exists)"; continue; fi
    [ -e "$path" ] || [ -L "$path" ] || { mkdir -p "$(dirname "$path")" && ln -s "$target" "$path"; }
  done
}

# Open MPI on one node, as root, without ssh; the ob1 PML with self/shared-memory/TCP transports
# (UCX and libfabric would probe for network hardware and warn).
device_env() {
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_osc=^ucx
  command -v ssh >/dev/null || export OMPI_MCA_plm_rsh_agent=false
  export PYTHONPATH="$PY_SITE${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONUNBUFFERED=1
  if ! command -v ninja >/dev/null; then
    local n
    n="$(python3 -c 'import ninja, os; print(ninja.BIN_DIR)' 2>/dev/null)" && PATH="$n:$PATH"
  fi
}

install_devdeps() {
  on_device_only
  log "== install: .devdeps into /"
  unpack_devdeps /
  x ldconfig
  x python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$PY_SITE" \
    "$DEVDEPS"/wheels/*.whl || die "installing the wheels from .devdeps/wheels failed"
  device_env
  [ -n "$DRY" ] && return 0
  log "checking the installed libraries"
  local so path
  for so in libmpi.so.40 libhdf5_serial.so.103 libyaml-cpp.so.0.7 libspdlog.so.1.10 libfmt.so.9 libblosc.so.1 \
    liblz4.so.1 libpng16.so.16 libz.so.1; do
    path="$(ldconfig -p | awk -v s="$so" '$1 == s { print $NF; exit }')"
    [ -n "$path" ] || die "$so is not known to ldconfig after unpacking"
    if ldd "$path" | grep -q 'not found'; then ldd "$path" | grep 'not found'; die "$so: libraries missing"; fi
  done
  if ldd /usr/bin/orterun | grep -q 'not found'; then ldd /usr/bin/orterun | grep 'not found'; die "mpirun: libraries missing"; fi
  local m
  for m in "${DEVDEPS_PC_MODULES[@]}"; do
    pkg-config --exists "$m" || die "pkg-config does not find $m ($(pkg-config --print-errors --exists "$m" 2>&1 | head -n 1))"
  done
  log "pkg-config finds ${DEVDEPS_PC_MODULES[*]}"
  log "$(mpirun --version | head -n 1); meson $("$PY_SITE/bin/meson" --version); ninja $(ninja --version)"
  timeout 60 mpirun -np 1 --bind-to none true || die "mpirun -np 1 true failed (see above)"
  log "mpirun -np 1 works"
}

# ---- device: build -------------------------------------------------------------------------------
build_segtrain() {
  on_device_only
  device_env
  log "== build: segtrain in $BUILD_DIR"
  if [ -z "$DRY" ]; then
    log "$(c++ --version | head -n 1); $(nvcc --version 2>/dev/null | tail -n 1)"
    log "torch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "GPUs", torch.cuda.device_count())' 2>&1)"
    # What meson will be told about LibTorch, and whether the CUDA runtime/NCCL wheels have headers.
    local info cuda_dir nccl_dir
    info="$(python3 "$ROOT_DIR/scripts/torch_info.py")" || die "scripts/torch_info.py failed"
    sed 's/^/    /' <<<"$info"
    cuda_dir="$(sed -n 's/^cuda_dir=//p' <<<"$info")"
    nccl_dir="$(sed -n 's/^nccl_dir=//p' <<<"$info")"
    if [ -n "$cuda_dir" ] && { [ ! -f "$cuda_dir/include/cuda_runtime_api.h" ] || [ ! -e "$cuda_dir/lib/libcudart.so.13" ]; }; then
      log "WARNING: $cuda_dir lacks include/cuda_runtime_api.h or lib/libcudart.so.13"
    fi
    if [ -n "$nccl_dir" ] && [ ! -f "$nccl_dir/include/nccl.h" ]; then log "WARNING: $nccl_dir lacks include/nccl.h"; fi
  fi
  local t0=$SECONDS
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    x "$PY_SITE/bin/meson" setup "$BUILD_DIR" "$ROOT_DIR" -Dpython="$(command -v python3)" -Dcuda=enabled \
      --buildtype=release || { cp "$BUILD_DIR/meson-logs/meson-log.txt" "$OUT_DIR/" 2>/dev/null; die "meson setup (meson-log.txt in \$OUT)"; }
  fi
  log "meson setup: $((SECONDS - t0)) s"
  local t1=$SECONDS
  x ninja -C "$BUILD_DIR" -j "$JOBS" segtrain || die "ninja segtrain (the first error is above)"
  log "ninja segtrain: $((SECONDS - t1)) s with $JOBS jobs; build total $((SECONDS - t0)) s"
  [ -n "$DRY" ] || ldd "$BUILD_DIR/segtrain" | grep -E 'not found|torch_cuda|nccl|cudart|mpi|hdf5' | sed 's/^/    /'
}

# ---- device: data --------------------------------------------------------------------------------
# make_shards NAME WxH TRAIN VAL CLASSES [converter args...]: a synthetic Cityscapes-layout PNG tree
# converted to shards in $DATA/NAME-shards (kept if already there).
make_shards() {
  local name="$1" size="$2" train="$3" val="$4" classes="$5"
  shift 5
  local png="$DATA/$name-png" shards="$DATA/$name-shards"
  if [ -z "$DRY" ] && [ -d "$shards/train" ] && [ -d "$shards/val" ]; then log "$shards: already there"; return 0; fi
  local t0=$SECONDS
  x rm -rf "$png" "$shards"
  x python3 "$ROOT_DIR/scripts/make_synthetic_dataset.py" "$png" --train "$train" --val "$val" --size "$size" \
    --num-classes "$classes" || die "make_synthetic_dataset.py ($name)"
  x python3 "$ROOT_DIR/scripts/convert_dataset.py" cityscapes "$png" "$shards" --compression "$COMPRESSION" \
    --workers "$JOBS" "$@" || die "convert_dataset.py ($name)"
  log "$name data: $((SECONDS - t0)) s"
}
DEMO_CLASSES=background,stripes_0,stripes_1,stripes_2,stripes_3,stripes_4,stripes_5,stripes_6
prepare_demo_data() { make_shards demo 128x96 64 16 8 --classes "$DEMO_CLASSES"; }
prepare_cityscapes_data() { make_shards cityscapes "$CS_SIZE" 16 4 19; }

# ---- device: runs --------------------------------------------------------------------------------
# run_segtrain NAME CONFIG [segtrain args...]: one rank on the GPU; the .log.json goes to $OUT and
# its medians to summary.jsonl.
run_segtrain() {
  local name="$1" config="$2"
  shift 2
  device_env
  local wd="$RUNS/$name"
  x rm -rf "$wd"
  x mkdir -p "$RUNS"
  local t0=$SECONDS
  x timeout "$RUN_TIMEOUT_S" mpirun -np 1 --bind-to none "$BUILD_DIR/segtrain" "$ROOT_DIR/$config" --work-dir "$wd" "$@" ||
    die "$name: segtrain failed or ran past ${RUN_TIMEOUT_S}s"
  log "$name: $((SECONDS - t0)) s wall"
  [ -n "$DRY" ] && return 0
  local json
  json="$(ls -t "$wd"/*.log.json | head -n 1)" || die "$name: no .log.json in $wd"
  cp "$json" "$OUT_DIR/$name.log.json"
  summarize_log "$name" "$json"
}

# Medians over the logged intervals after the first (which holds cuDNN's autotuning and warm-up).
summarize_log() {
  python3 - "$1" "$2" <<'EOF' | tee -a "$SUMMARY"
import json, statistics, sys
name, path = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path) if l.strip()][1:]  # line 1: config, versions
train = [r for r in rows if r.get("mode") == "train"]
val = [r for r in rows if r.get("mode") == "val"]
timed = train[1:] if len(train) > 1 else train
out = {"run": name, "log_entries": len(train), "last_iter": train[-1]["iter"] if train else None}
if timed:
    out["median_time_s"] = round(statistics.median(r["time"] for r in timed), 4)
    out["median_data_time_s"] = round(statistics.median(r["data_time"] for r in timed), 4)
    out["max_memory_mb"] = max(r["memory"] for r in train)
    out["last_loss"] = round(train[-1]["loss"], 4)
if val:
    out["val"] = {k: val[-1][k] for k in ("iter", "aAcc", "mIoU", "mAcc") if k in val[-1]}
print(json.dumps(out))
EOF
}

run_demo_cuda() {
  local iters="${1:-200}"
  shift || true
  on_device_only
  log "== demo: configs/demo (ResNet-18 FCN, 64x64, batch 4), $iters iterations, evaluation at the end"
  prepare_demo_data
  run_segtrain "${DEMO_RUN_NAME:-demo}" configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml \
    --options "runner.max_iters=$iters" "evaluation.interval=$iters" checkpoint_config.interval=1000000 \
    log_config.interval=20 "data.train.data_root=$DATA/demo-shards" "data.val.data_root=$DATA/demo-shards" \
    "data.test.data_root=$DATA/demo-shards" "$@"
}

CS_CONFIG=configs/fcn/fcn_r50-d8_512x1024_40k_cityscapes.yaml
run_cityscapes_size() {
  local iters="${1:-60}"
  shift || true
  on_device_only
  log "== cityscapes size: FCN R50-D8, 512x1024 crops, batch 2, on synthetic $CS_SIZE images, $iters iterations"
  prepare_cityscapes_data
  [ -f "$ROOT_DIR/$CS_CONFIG" ] || die "$CS_CONFIG does not exist"
  run_segtrain "${CS_RUN_NAME:-cityscapes_size}" "$CS_CONFIG" --no-validate \
    --options "runner.max_iters=$iters" checkpoint_config.interval=1000000 log_config.interval=10 \
    model.pretrained=None "data.train.data_root=$DATA/cityscapes-shards" "data.val.data_root=$DATA/cityscapes-shards" \
    "data.test.data_root=$DATA/cityscapes-shards" "$@"
}

# Precision and memory format at Cityscapes size (FCN R50-D8, 512x1024, batch 2): segtrain and
# the PyTorch reference (bench/train_step/reference_train.py) side by side, fp32 / fp16 (MMSeg's
# Fp16OptimizerHook, loss scale 512) / bf16, each with and without channels_last. One summary
# line per run (median s/iter, peak memory).
run_precision() {
  local iters="${1:-30}" p cl name flags opts
  on_device_only
  prepare_cityscapes_data
  for p in fp32 fp16 bf16; do
    for cl in 0 1; do
      name="${p}${cl/1/_nhwc}"; name="${name%0}"
      opts=("runner.max_iters=$iters")
      case "$p" in
        fp16) opts+=(optimizer_config.type=Fp16OptimizerHook optimizer_config.loss_scale=512.) ;;
        bf16) opts+=(fp16.dtype=bfloat16) ;;
      esac
      flags=(--precision "$p")
      if [ "$cl" = 1 ]; then opts+=(channels_last=True); flags+=(--channels-last); fi
      log "== precision $name: segtrain"
      CS_RUN_NAME="precision_$name" run_cityscapes_size "$iters" "${opts[@]}"
      log "== precision $name: reference"
      run_reference_with "reference_$name" fcn_r50 "$iters" "${flags[@]}"
    done
  done
}

# bench/gpu_step (issue 14's table): segtrain against the PyTorch loop of the same model, one model
# after another so that a short budget still gives whole models; it gets what is left of the
# budget, at least 60 s (runs past it are listed as skipped in its JSON, in summary.jsonl), and a
# failure is logged without ending the steps after it. Each run's logs land in $OUT/gpu_step/.
run_gpu_step() {
  local iters="${1:-20}" set="${2:-quick}" args
  on_device_only
  prepare_cityscapes_data
  device_env
  case "$set" in
    quick) args=(--with-cp-for fp32 --only fp32_nchw,fp16_nhwc,bf16_nhwc) ;;
    full) args=() ;;
    *) die "gpu_step: SET is quick or full, not '$set'" ;;
  esac
  local left=$((BUDGET_S - SECONDS))
  [ "$left" -ge 60 ] || left=60
  log "== gpu_step: $set, $iters iterations, ${left}s of the budget"
  x mkdir -p "$OUT_DIR/gpu_step"
  [ -n "$DRY" ] && return 0
  local out
  if ! out="$(python3 "$ROOT_DIR/bench/gpu_step/gpu_step.py" --device cuda --segtrain "$BUILD_DIR/segtrain" \
    --data "$DATA/cityscapes-shards" --iters "$iters" --warmup 5 --budget-s "$left" --keep "$OUT_DIR/gpu_step" \
    --timeout-s "$RUN_TIMEOUT_S" "${args[@]}" 2>&1)"; then
    echo "$out"
    log "gpu_step failed (the output is above); going on with the other steps"
    return 0
  fi
  echo "$out"
  tail -n 1 <<<"$out" >"$OUT_DIR/gpu_step.json"
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d.pop("rows"); print(json.dumps({"run": "gpu_step", **d}))' \
    "$OUT_DIR/gpu_step.json" | tee -a "$SUMMARY"
}

# float16 with a dynamic scale that starts far too high (2^24): the first steps overflow, are
# skipped and logged, the scale backs off, and training goes on to a finite, lower loss.
run_fp16_dynamic() {
  local iters="${1:-60}"
  on_device_only
  log "== fp16 dynamic loss scale from 2^24: the demo, $iters iterations"
  prepare_demo_data
  DEMO_RUN_NAME=fp16_dynamic run_demo_cuda "$iters" optimizer_config.type=Fp16OptimizerHook \
    optimizer_config.loss_scale.init_scale=16777216. optimizer_config.loss_scale.growth_interval=20
  [ -n "$DRY" ] && return 0
  local logfile skipped
  logfile="$(ls -t "$RUNS/fp16_dynamic"/*.log | head -n 1)"
  skipped="$(grep -c 'step skipped' "$logfile" || true)"
  log "fp16_dynamic: $skipped skipped step(s); $(grep -m1 'precision:' "$logfile" | sed 's/.*INFO - //')"
  [ "$skipped" -ge 1 ] || die "fp16_dynamic: no step was skipped at a loss scale of 2^24"
}

# The NCCL path on one GPU (issue: the multi-GPU NCCL path): SyncBN and the gradient reducer
# communicate at world size 1 (dist_params.collectives_on_one_rank), so the NCCL collectives,
# ncclCommSplit, the streams and events, bucket views and recordStream run on a real device.
run_nccl_one_rank() {
  local iters="${1:-50}"
  shift || true
  on_device_only
  log "== nccl one rank: the demo with every collective through NCCL, $iters iterations"
  prepare_demo_data
  DEMO_RUN_NAME=nccl_one_rank run_demo_cuda "$iters" dist_params.collectives_on_one_rank=true "$@"
}

# Resume on the GPU ends where an uninterrupted run does: the CUDA generator (dropout in the
# decode head draws from it) travels in the checkpoint as 'cuda_rng'. Not bitwise: --deterministic
# is cuDNN's deterministic mode, as in MMSeg, and bilinear upsampling's backward adds atomically;
# a different dropout mask would move the weights by orders of magnitude more than the 1e-4 allowed.
run_resume_cuda() {
  on_device_only
  prepare_demo_data
  device_env
  log "== resume on the GPU: 6 iterations, against 3 + resumed 3"
  local common=(--deterministic --seed 5 --no-validate --options runner.max_iters=6 checkpoint_config.interval=3
    log_config.interval=1 "data.train.data_root=$DATA/demo-shards" "data.val.data_root=$DATA/demo-shards"
    "data.test.data_root=$DATA/demo-shards")
  local demo="$ROOT_DIR/configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml"
  x rm -rf "$RUNS/resume_full" "$RUNS/resume_half"
  x timeout "$RUN_TIMEOUT_S" mpirun -np 1 --bind-to none "$BUILD_DIR/segtrain" "$demo" --work-dir "$RUNS/resume_full" \
    "${common[@]}" || die "resume_cuda: the uninterrupted run failed"
  x timeout "$RUN_TIMEOUT_S" mpirun -np 1 --bind-to none "$BUILD_DIR/segtrain" "$demo" --work-dir "$RUNS/resume_half" \
    --resume-from "$RUNS/resume_full/iter_3.pth" "${common[@]}" || die "resume_cuda: the resumed run failed"
  [ -n "$DRY" ] && return 0
  python3 - "$RUNS/resume_full/iter_6.pth" "$RUNS/resume_half/iter_6.pth" <<'EOF2' || die "resume_cuda: the resumed run differs"
import sys, torch
a, b = (torch.load(f, weights_only=False, map_location="cpu") for f in sys.argv[1:])
assert "cuda_rng" in a, "no cuda_rng in the checkpoint"
diff = {k: (a["state_dict"][k].double() - b["state_dict"][k].double()).abs().max().item() for k in a["state_dict"]}
worst = max(diff, key=diff.get)
print(f"resume_cuda: largest weight difference {diff[worst]:.3g} ({worst}); cuda_rng equal: "
      f"{torch.equal(a['cuda_rng'], b['cuda_rng'])}")
assert diff[worst] <= 1e-4 and torch.equal(a["cuda_rng"], b["cuda_rng"])
EOF2
}

# The dist suite's gtest binary on the GPU machine (one rank): the device selection test sees a
# GPU there (the current CUDA device must be the one taken).
run_dist_tests() {
  on_device_only
  device_env
  log "== dist tests: mpirun -np 1 tests/dist_tests"
  x ninja -C "$BUILD_DIR" -j "$JOBS" tests/dist_tests || die "ninja tests/dist_tests"
  x timeout "$RUN_TIMEOUT_S" mpirun -np 1 --bind-to none "$BUILD_DIR/tests/dist_tests" || die "dist_tests failed"
}

# compute-sanitizer (memcheck, then racecheck) over a few iterations of the NCCL-on-one-rank demo,
# where the image has it.
run_compute_sanitizer() {
  local iters="${1:-3}" tool cs
  on_device_only
  cs="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1 || true)"
  [ -n "$cs" ] || { log "compute-sanitizer: not in this image, skipped"; return 0; }
  prepare_demo_data
  device_env
  for tool in memcheck racecheck; do
    log "== compute-sanitizer --tool $tool: $iters iterations, collectives through NCCL"
    x timeout "$RUN_TIMEOUT_S" mpirun -np 1 --bind-to none "$cs" --tool "$tool" --error-exitcode 9 \
      "$BUILD_DIR/segtrain" "$ROOT_DIR/configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml" --work-dir "$RUNS/cs_$tool" \
      --no-validate --options "runner.max_iters=$iters" checkpoint_config.interval=1000000 log_config.interval=1 \
      dist_params.collectives_on_one_rank=true "data.train.data_root=$DATA/demo-shards" \
      "data.val.data_root=$DATA/demo-shards" "data.test.data_root=$DATA/demo-shards" ||
      die "compute-sanitizer --tool $tool reported errors (or the run failed)"
  done
}

# run_reference ARCH ITERS [BATCH] [CROP]: the PyTorch loop of bench/train_step on the GPU.
run_reference() {
  local arch="${1:-fcn_r50}" iters="${2:-60}" batch="${3:-}" crop="${4:-}"
  local args=()
  [ -n "$batch" ] && args+=(--batch "$batch")
  [ -n "$crop" ] && args+=(--crop "$crop")
  run_reference_with "reference_$arch" "$arch" "$iters" "${args[@]}"
}

# run_reference_with NAME ARCH ITERS [reference_train.py flags...]
run_reference_with() {
  local run_name="$1" arch="$2" iters="$3"
  shift 3
  on_device_only
  local script="$ROOT_DIR/bench/train_step/reference_train.py"
  [ -f "$script" ] || { log "reference: $script does not exist, skipped"; return 0; }
  log "== reference: $arch, $iters iterations $*"
  device_env
  local args=(--device cuda --arch "$arch" --iters "$iters" "$@")
  local t0=$SECONDS out
  log "+ python3 bench/train_step/reference_train.py ${args[*]}"
  [ -n "$DRY" ] && return 0
  out="$(timeout "$RUN_TIMEOUT_S" python3 "$script" "${args[@]}" 2>&1)" || { echo "$out"; die "reference $arch failed"; }
  echo "$out"
  log "reference $arch: $((SECONDS - t0)) s wall"
  local line
  line="$(grep '^{' <<<"$out" | tail -n 1)"
  [ -n "$line" ] && python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(json.dumps({"run": sys.argv[1], **d}))' \
    "$run_name" "$line" | tee -a "$SUMMARY"
}

# ---- main ----------------------------------------------------------------------------------------
run_step() {
  local step="$1" name args
  IFS=: read -r -a args <<<"$step"
  name="${args[0]}"
  args=("${args[@]:1}")
  case "$name" in
    install) install_devdeps ;;
    build) build_segtrain ;;
    demo) run_demo_cuda "${args[@]}" ;;
    cityscapes) run_cityscapes_size "${args[@]}" ;;
    reference) run_reference "${args[@]}" ;;
    nccl_one_rank) run_nccl_one_rank "${args[@]}" ;;
    dist_tests) run_dist_tests ;;
    resume_cuda) run_resume_cuda ;;
    compute_sanitizer) run_compute_sanitizer "${args[@]}" ;;
    precision) run_precision "${args[@]}" ;;
    fp16_dynamic) run_fp16_dynamic "${args[@]}" ;;
    gpu_step) run_gpu_step "${args[@]}" ;;
    *) declare -F "$name" >/dev/null || die "unknown step '$name'"; "$name" "${args[@]}" ;;
  esac
}

main() {
  case "${1:-}" in
    --fetch) fetch_devdeps; return ;;
    --verify) verify_devdeps; return ;;
    -h | --help) sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return ;;
  esac
  local steps=("$@")
  [ ${#steps[@]} -gt 0 ] || steps=(install build nccl_one_rank:50 dist_tests resume_cuda fp16_dynamic:60
    compute_sanitizer:3 gpu_step demo:200 cityscapes:60 reference:fcn_r50:60 reference:fcn_r18:200)
  log "device_check: ${steps[*]}${DRY:+ (dry run: nothing is run)}; log in $LOG"
  cd "$ROOT_DIR"
  [ -n "$DRY" ] || { nvidia-smi -L 2>/dev/null || true; }
  local s
  for s in "${steps[@]}"; do
    if [ "$SECONDS" -gt "$BUDGET_S" ]; then log "skipped $s: past the ${BUDGET_S}s budget"; continue; fi
    run_step "$s"
  done
  log "device_check: done in ${SECONDS}s; summary:"
  [ -f "$SUMMARY" ] && cat "$SUMMARY"
  return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  main "$@" 2>&1 | tee -a "$LOG"
  exit "${PIPESTATUS[0]}"
fi
