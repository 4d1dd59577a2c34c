#!/usr/bin/env bash
# Builds camstream's libcamera source against the libcamera versions it must support besides
# the installed one:
#   0.3.2 (Debian bookworm-backports): compile, link a small program, run it (lists no cameras);
#   0.7.1 (Debian trixie-backports):   compile the headers only (-fsyntax-only; its binaries
#                                      need a newer glibc than bookworm's). .ci/virtual-camera.sh
#                                      builds, links and runs camstream against 0.7.1 in a
#                                      Debian trixie root.
# plus the installed libcamera (syntax only; the normal build links it).
# The packages come from Debian's archive with `apt-get download` under a private apt
# configuration (the machine's own sources stay untouched) and are unpacked into
# build/libcamera-matrix/, where they stay cached. Any compile, link or run failure exits non-zero.
#
# Environment: CAMSTREAM_DEBIAN_MIRROR overrides the archive URL (default: the Debian main
# archive named in the machine's apt sources). CXX picks the compiler (default g++).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/build/libcamera-matrix"
cxx=${CXX:-g++}
multiarch=$("$cxx" -print-multiarch)
arch=$(dpkg --print-architecture)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

log() { printf 'libcamera-matrix: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- The archive address, from the machine's own apt sources --------------------------------
# shellcheck source=debian-mirror.sh
. "$root/.ci/debian-mirror.sh"
mirror=$(debian_mirror)
[ -n "$mirror" ] || die "no Debian archive found in /etc/apt/sources.list{,.d}; set CAMSTREAM_DEBIAN_MIRROR"

# --- Private apt configuration -----------------------------------------------------------
apt_dir="$work/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/prefs.d" \
  "$work/debs"
: >"$apt_dir/status"
cat >"$apt_dir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm-backports main
deb [signed-by=$keyring] $mirror trixie-backports main
EOF
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::Etc::preferences=/dev/null"
  -o "Dir::Etc::preferencesparts=$apt_dir/prefs.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=$arch"
  -o "APT::Architectures::=$arch"
  -o "Acquire::Languages=none"
  -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
  -o "APT::Sandbox::User=$(id -un)"
  -o "Debug::NoLocking=true"
  -q
)

# Once per run (download runs in command substitutions, so the mark is a file).
updated_mark="$apt_dir/updated.$$"
trap 'rm -f "$updated_mark"' EXIT
apt_update() {
  [ -f "$updated_mark" ] && return
  log "apt-get update (private lists, $mirror)"
  apt-get "${apt_opts[@]}" update >"$work/apt-update.log" 2>&1 ||
    { cat "$work/apt-update.log" >&2; die "apt-get update failed"; }
  touch "$updated_mark"
}

# download SUITE PACKAGE: prints the path of the cached .deb, downloading it once.
download() {
  local suite=$1 package=$2 dir="$work/debs/$1" found
  mkdir -p "$dir"
  found=$(find "$dir" -maxdepth 1 -name "${package}_*.deb" -print -quit)
  if [ -z "$found" ]; then
    apt_update
    (cd "$dir" && apt-get "${apt_opts[@]}" download "$package/$suite" >&2) ||
      die "apt-get download $package/$suite failed"
    found=$(find "$dir" -maxdepth 1 -name "${package}_*.deb" -print -quit)
  fi
  [ -n "$found" ] || die "no .deb for $package/$suite"
  printf '%s\n' "$found"
}

# unpack SUITE headers|runtime: downloads libcamera-dev (and with "runtime" the versioned
# libraries it depends on) from SUITE, unpacks them into $work/root-SUITE; prints that directory.
unpack() {
  local suite=$1 what=$2 dest="$work/root-$1" dev deb runtime
  dev=$(download "$suite" libcamera-dev)
  if [ ! -f "$dest/.unpacked-$what" ] || [ "$dest/.unpacked-$what" -ot "$dev" ]; then
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg-deb -x "$dev" "$dest"
    if [ "$what" = runtime ]; then
      # libcamera0.3 holds libcamera.so.0.3 and libcamera-base.so.0.3; everything else they
      # need is in bookworm itself (checked by running the program below).
      for runtime in $(dpkg-deb -f "$dev" Depends | grep -oE 'libcamera0\.[0-9]+[a-z0-9.+-]*' | sort -u); do
        deb=$(download "$suite" "$runtime")
        dpkg-deb -x "$deb" "$dest"
      done
    fi
    touch "$dest/.unpacked-$what"
  fi
  printf '%s\n' "$dest"
}

# --- Compiling --------------------------------------------------------------------------
# camera_logic.cpp is among the libcamera/*.cpp; from core, controls.cpp holds the checks every
# source's FrameSource::set_controls uses, value_text.cpp the number forms they read (ascii.cpp
# its case folding); the orientation and transform files (libyuv) the software rotation the
# libcamera source does where the camera cannot.
sources=(
  "$root"/src/capture/libcamera/*.cpp
  "$root/src/core/controls.cpp"
  "$root/src/core/value_text.cpp"
  "$root/src/core/ascii.cpp"
  "$root/src/core/orientation.cpp"
  "$root/src/core/frame_transform.cpp"
  "$root/src/core/frame_scale.cpp"
)
common_flags=(-std=c++20 -O0 -Wall -Wextra -Wpedantic -I"$root/include" -I"$root/src")
read -r -a spdlog_cflags <<<"$(pkg-config --cflags spdlog)"
read -r -a spdlog_libs <<<"$(pkg-config --libs spdlog)"

# libcamera_flags ROOT: compile flags for the libcamera unpacked under ROOT (system if empty),
# with its headers as system headers so that their own warnings stay quiet.
libcamera_flags() {
  local prefix=$1 pc_dir flags
  if [ -z "$prefix" ]; then
    flags=$(pkg-config --cflags libcamera)
  else
    pc_dir="$prefix/usr/lib/$multiarch/pkgconfig"
    [ -f "$pc_dir/libcamera.pc" ] || die "no libcamera.pc in $pc_dir"
    flags=$(PKG_CONFIG_LIBDIR="$pc_dir" PKG_CONFIG_PATH="" \
      pkg-config --define-variable=prefix="$prefix/usr" --cflags libcamera)
  fi
  printf '%s\n' "${flags//-I/-isystem }"
}

# compile NAME MODE FLAGS...: MODE is "syntax" or "objects" (into $work/obj-NAME). Two jobs at a
# time; fails if any file fails.
compile() {
  local name=$1 mode=$2 out="$work/obj-$1" src failed=0 pids=()
  shift 2
  mkdir -p "$out"
  for src in "${sources[@]}"; do
    if [ "$mode" = syntax ]; then
      "$cxx" "${common_flags[@]}" "${spdlog_cflags[@]}" "$@" -fsyntax-only "$src" &
    else
      "$cxx" "${common_flags[@]}" "${spdlog_cflags[@]}" "$@" -c "$src" \
        -o "$out/$(basename "$src" .cpp).o" &
    fi
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || die "libcamera $name: compilation failed"
  log "libcamera $name: compiled ($mode)"
}

start=$(date +%s)

# The installed version (Debian bookworm 0.0.3 here): syntax only, the CMake build links it.
if pkg-config --exists libcamera; then
  read -r -a flags <<<"$(libcamera_flags "")"
  compile "$(pkg-config --modversion libcamera)-system" syntax "${flags[@]}"
fi

# 0.3.2 from bookworm-backports: compile, link and run.
bpo=$(unpack bookworm-backports runtime)
read -r -a flags <<<"$(libcamera_flags "$bpo")"
version=$(PKG_CONFIG_LIBDIR="$bpo/usr/lib/$multiarch/pkgconfig" pkg-config --modversion libcamera)
compile "$version" objects "${flags[@]}"
cat >"$work/obj-$version/list_main.cpp" <<'EOF'
// Links the libcamera source and lists the cameras: proves the library loads and starts.
#include <cstdio>

#include "camstream/capture/capture_config.hpp"
#include "camstream/capture/capture_error.hpp"
#include "camstream/capture/libcamera.hpp"

int main() {
  const auto cameras = camstream::list_cameras();
  std::printf("%s: %zu camera(s)\n", camstream::libcamera_version_string().c_str(),
              cameras.size());
  for (const auto& camera : cameras) std::printf("  %d %s\n", camera.index, camera.id.c_str());
  if (cameras.empty()) {
    try {
      camstream::make_libcamera_source(camstream::CaptureConfig{});
      std::puts("make_libcamera_source: no error without a camera");
      return 1;
    } catch (const camstream::CaptureError& e) {
      std::printf("make_libcamera_source: %s\n", e.what());
    }
  }
  return 0;
}
EOF
libdir="$bpo/usr/lib/$multiarch"
"$cxx" "${common_flags[@]}" -c "$work/obj-$version/list_main.cpp" -o "$work/obj-$version/list_main.o"
"$cxx" -o "$work/list-cameras-$version" "$work/obj-$version"/*.o -L"$libdir" -lcamera \
  -lcamera-base "${spdlog_libs[@]}" -lyuv -pthread || die "libcamera $version: link failed"
log "libcamera $version: linked"
output=$(LD_LIBRARY_PATH="$libdir" "$work/list-cameras-$version") ||
  die "libcamera $version: list-cameras failed: $output"
printf '%s\n' "$output" | sed 's/^/  /' >&2
grep -q "^libcamera ${version}" <<<"$output" ||
  die "libcamera $version: the program ran against another libcamera: $output"
log "libcamera $version: ran"

# 0.7.1 from trixie-backports: headers only.
tbpo=$(unpack trixie-backports headers)
read -r -a flags <<<"$(libcamera_flags "$tbpo")"
version=$(PKG_CONFIG_LIBDIR="$tbpo/usr/lib/$multiarch/pkgconfig" pkg-config --modversion libcamera)
compile "$version" syntax "${flags[@]}"

log "all versions build ($(($(date +%s) - start)) s)"
