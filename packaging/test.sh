#!/usr/bin/env bash
# The whole test suite: release build and tests, the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, the capture and I/O thread hand-offs under ThreadSanitizer, the
# libcamera version matrix, a real libcamera 0.7.1 camera (the virtual one, in a Debian trixie
# root), the fuzz targets, and the Debian package (built, linted, installed into a fresh bookworm
# root). Run from anywhere, as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/install-deps.sh"
# ccache, when installed, makes a rerun on the same machine faster; nothing here needs it.
# CCACHE_BASEDIR= keeps __FILE__ absolute: options.ShippedConfig finds config/ through it.
with_ccache() {
  if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
    CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR= "$@"
  else
    "$@"
  fi
}
with_ccache cmake --workflow --preset release
with_ccache cmake --workflow --preset debug
# ThreadSanitizer: the capture and stream unit tests (the source and encoder threads) and the
# integration tests that stream from a real camstream (the selection and why: docs/fuzzing.md).
with_ccache cmake --workflow --preset tsan
bash .ci/libcamera-matrix.sh
bash .ci/virtual-camera.sh

# Every libFuzzer target for 30 s from its corpus (clang-14).
with_ccache cmake --workflow --preset fuzz
tests/fuzz/run.sh

# The Debian package: built and linted as this user (no root needed), then installed with apt
# into a fresh bookworm root (root: mmdebstrap, chroot, mounts). The arm64 cross build with its
# qemu-user smoke test (packaging/build-deb-arm64.sh, about 10 minutes) is run by hand: its last
# result is in docs/install.md.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# nocheck: the unit tests already ran above, in the release and sanitizer builds.
DEB_BUILD_OPTIONS=nocheck packaging/build-deb.sh
as_root packaging/test-deb.sh
