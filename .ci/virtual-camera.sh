#!/usr/bin/env bash
# End to end through a real libcamera: Debian trixie's libcamera 0.7.1 (trixie-backports) and its
# "virtual" pipeline handler, which gives frames without hardware or kernel modules.
#
#   1. A Debian trixie root (mmdebstrap) with libcamera 0.7.1 and camstream's build dependencies,
#      cached outside the clone ($CAMSTREAM_TRIXIE_CACHE, default /var/cache/camstream) and
#      reused when complete;
#   2. virtual.yaml: two virtual cameras (bars and lines), 640x480 and 1280x720, 10..30 fps;
#   3. camstream built inside the root against 0.7.1 (release, plus the capture unit tests under
#      AddressSanitizer), its capture unit tests run there on the virtual camera;
#   4. tests/camera/ (pytest on the host, real clients) against camstream running inside the
#      root: the root shares the host's network, so the tests reach it on 127.0.0.1; the
#      controls through tests/camera/controls_probe.cpp, compared with `cam --list-controls`.
#
# Needs root (mmdebstrap --mode=root, chroot, bind mounts). Any failure, including a root that
# cannot be built, exits non-zero. /proc, /sys and /dev are bind-mounted only while the script
# runs and unmounted on every exit; a root is only ever deleted with no mount inside it.
#
# `--bench` runs bench/camera_cpu.py (CPU per delivered frame, virtual camera vs test source)
# instead of the tests.
#
# `--soak MINUTES [SOAK-ARGS...]` runs bench/soak.py for MINUTES on the host against
# `camstream --source libcamera` inside the root (started through chroot, so the samples,
# libcamera's dmabuf descriptors included, are camstream's own); SOAK-ARGS go to soak.py
# (e.g. --json FILE). Only the release camstream is built, and no tests run.
#
# Environment: CAMSTREAM_TRIXIE_CACHE (cache directory), CAMSTREAM_DEBIAN_MIRROR (archive URL;
# default: the Debian archive in the machine's apt sources).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${CAMSTREAM_TRIXIE_CACHE:-/var/cache/camstream}
root="$cache/trixie-root"
# Bump when the recipe below changes: a root built by another recipe is rebuilt.
recipe="trixie+libcamera-bpo+build-deps v1"
start=$(date +%s)
mode=${1:-tests}
soak_minutes=
soak_args=()
case "$mode" in
  tests | --bench) ;;
  --soak)
    soak_minutes=${2:-}
    [[ "$soak_minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] ||
      { echo "virtual-camera: --soak needs MINUTES (a number), got '$soak_minutes'" >&2; exit 2; }
    soak_args=("${@:3}") ;;
  *) echo "virtual-camera: unknown mode '$mode' (none, --bench or --soak MINUTES)" >&2; exit 2 ;;
esac

log() { printf 'virtual-camera: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
elapsed() { echo "$(($(date +%s) - start)) s"; }

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap --mode=root, chroot, bind mounts)"
for tool in mmdebstrap chroot findmnt flock; do
  command -v "$tool" >/dev/null || {
    log "installing $tool"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
      --no-install-recommends mmdebstrap util-linux >&2 || die "cannot install mmdebstrap"
  }
done

# shellcheck source=debian-mirror.sh
. "$repo/.ci/debian-mirror.sh"
mirror=$(debian_mirror)
[ -n "$mirror" ] || die "no Debian archive in /etc/apt/sources.list{,.d}; set CAMSTREAM_DEBIAN_MIRROR"

mkdir -p "$cache"
# One run at a time per cache (two CI runs on one machine share the root).
exec 9>"$cache/lock"
flock -w 1200 9 || die "another run holds $cache/lock"

# --- Mounts --------------------------------------------------------------------------------
mounts_under() { findmnt -rn -o TARGET | awk -v p="$1/" 'index($0, p) == 1'; }

unmount_all() {
  local dir=$1 target
  # Deepest first.
  for target in $(mounts_under "$dir" | sort -r); do
    umount "$target" 2>/dev/null || umount -l "$target" || log "cannot unmount $target"
  done
}

# remove_root DIR: deletes a root, never while anything is mounted inside it.
remove_root() {
  local dir=$1
  [ -e "$dir" ] || return 0
  unmount_all "$dir"
  [ -z "$(mounts_under "$dir")" ] || die "still mounted under $dir; not deleting it"
  rm -rf --one-file-system "$dir"
}

mount_root() {
  local d
  for d in proc sys dev; do
    mountpoint -q "$root/$d" || mount --bind "/$d" "$root/$d"
  done
  # memfd and shared memory need nothing else; /dev/shm is its own mount on the host.
}

cleanup() { unmount_all "$root"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The root ------------------------------------------------------------------------------
root_packages=(
  ca-certificates g++ cmake ninja-build pkg-config ccache
  libboost1.83-dev libboost-json1.83-dev libturbojpeg0-dev libcli11-dev libspdlog-dev
  libgtest-dev libyuv-dev
)

build_root() {
  local tmp="$cache/trixie-root.new"
  remove_root "$tmp"
  log "building the trixie root from $mirror (mmdebstrap)"
  # mmdebstrap mounts /proc, /sys and /dev for its hooks and unmounts them itself.
  mmdebstrap --variant=apt --mode=root --quiet \
    --include="$(IFS=,; echo "${root_packages[*]}")" \
    --customize-hook='chroot "$1" apt-get install -y -qq --no-install-recommends -t trixie-backports libcamera-dev libcamera-tools' \
    trixie "$tmp" \
    "deb $mirror trixie main" "deb $mirror trixie-backports main" >"$cache/mmdebstrap.log" 2>&1 ||
    { tail -n 40 "$cache/mmdebstrap.log" >&2; remove_root "$tmp"
      die "mmdebstrap could not build the trixie root (log: $cache/mmdebstrap.log)"; }
  [ -z "$(mounts_under "$tmp")" ] || die "mmdebstrap left mounts under $tmp"
  echo "$recipe" >"$tmp/.camstream-root"
  remove_root "$root"
  mv "$tmp" "$root"
  log "trixie root built ($(elapsed))"
}

unmount_all "$root"  # left over from a killed run
if [ "$(cat "$root/.camstream-root" 2>/dev/null)" != "$recipe" ]; then
  build_root
else
  log "reusing $root"
fi
mount_root

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  LANG=C.UTF-8 "$@"; }

# The project's own dependency list, so that a package another change needs reaches the root
# too (a no-op when all are there; libcamera-dev is already the 0.7.1 backport).
cp "$repo/packaging/install-deps.sh" "$root/tmp/install-deps.sh"
in_root bash /tmp/install-deps.sh build >&2 || die "install-deps.sh failed in the root"
version=$(in_root pkg-config --modversion libcamera) || die "no libcamera in the root"
case "$version" in 0.7.*) ;; *) die "the root has libcamera $version, expected 0.7.x" ;; esac

# --- The virtual cameras ---------------------------------------------------------------------
# Two cameras so that selection by index and id is tested; the sizes are what they grant.
mkdir -p "$root/usr/share/libcamera/pipeline/virtual"
cat >"$root/usr/share/libcamera/pipeline/virtual/virtual.yaml" <<'EOF'
%YAML 1.1
---
"Virtual0":
  supported_formats:
  - {width: 640, height: 480, frame_rates: [10, 30]}
  - {width: 1280, height: 720, frame_rates: [10, 30]}
  test_pattern: "bars"
  location: "CameraLocationFront"
  model: "Virtual Bars"
"Virtual1":
  supported_formats:
  - {width: 640, height: 480, frame_rates: [10, 30]}
  test_pattern: "lines"
  location: "CameraLocationBack"
  model: "Virtual Lines"
EOF
listing=$(in_root cam --list 2>&1) || die "cam --list failed: $listing"
printf '%s\n' "$listing" | sed 's/^/  /' >&2
grep -q 'Virtual0' <<<"$listing" || die "cam --list shows no virtual camera"

# --- Build inside the root ------------------------------------------------------------------
log "copying the sources into the root"
rm -rf --one-file-system "$root/work/src"
mkdir -p "$root/work/src"
tar -C "$repo" --exclude=./build --exclude=./.git --exclude=node_modules -cf - . |
  tar -C "$root/work/src" -xf -

build() {  # build NAME CMAKE-ARGS... -- TARGETS...
  local name=$1 args=() targets=()
  shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  targets=("$@")
  rm -rf --one-file-system "$root/work/build-$name"
  in_root env CCACHE_DIR=/var/cache/ccache cmake -S /work/src -B "/work/build-$name" -G Ninja \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCAMSTREAM_BUILD_BENCH=OFF "${args[@]}" \
    >"$cache/cmake-$name.log" 2>&1 || { cat "$cache/cmake-$name.log" >&2; die "cmake ($name) failed"; }
  grep -q "libcamera $version source enabled" "$cache/cmake-$name.log" ||
    { cat "$cache/cmake-$name.log" >&2; die "the $name build did not enable libcamera $version"; }
  in_root env CCACHE_DIR=/var/cache/ccache cmake --build "/work/build-$name" -j2 \
    --target "${targets[@]}" >"$cache/build-$name.log" 2>&1 ||
    { tail -n 80 "$cache/build-$name.log" >&2; die "build ($name) against libcamera $version failed"; }
  log "built $name against libcamera $version ($(elapsed))"
}

if [ "$mode" = --soak ]; then
  build release -DCMAKE_BUILD_TYPE=Release -- camstream
  log "soak: ${soak_minutes} min on the virtual camera (bench/soak.py)"
  PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$repo/bench/soak.py" \
    --server-command "chroot $root /usr/bin/env -i PATH=/usr/bin:/bin LIBCAMERA_LOG_LEVELS=*:ERROR" \
    --binary /work/build-release/src/camstream --minutes "$soak_minutes" "${soak_args[@]}" \
    -- --source libcamera || die "soak on the virtual camera failed (not flat, or died)"
  log "soak passed ($(elapsed))"
  exit 0
fi

build release -DCMAKE_BUILD_TYPE=Release -- camstream unit_capture camera_controls_probe
build asan -DCMAKE_BUILD_TYPE=Debug \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
  -- unit_capture

# --- Tests -------------------------------------------------------------------------------------
# The capture unit tests on the virtual camera: CAMSTREAM_REQUIRE_CAMERA turns "no camera" into a
# failure instead of a skip.
for name in release asan; do
  in_root env CAMSTREAM_REQUIRE_CAMERA=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "/work/build-$name/tests/unit_capture" --gtest_brief=1 >&2 ||
    die "capture unit tests ($name) failed on the virtual camera"
  log "capture unit tests ($name) passed on the virtual camera ($(elapsed))"
done

if [ "$mode" = --bench ]; then
  log "CPU per delivered frame (bench/camera_cpu.py)"
  CAMSTREAM_CHROOT="$root" CAMSTREAM_BIN=/work/build-release/src/camstream \
    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$repo/bench/camera_cpu.py" || die "bench failed"
  exit 0
fi

log "end-to-end tests (tests/camera)"
CAMSTREAM_CHROOT="$root" CAMSTREAM_BIN=/work/build-release/src/camstream \
  CAMSTREAM_CONTROLS_PROBE=/work/build-release/tests/camera_controls_probe \
  PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$repo/tests/camera" >&2 ||
  die "end-to-end tests on the virtual camera failed"

log "passed ($(elapsed))"
