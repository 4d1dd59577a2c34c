#!/usr/bin/env bash
# The whole test suite: release build and tests, the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the libcamera version matrix. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/install-deps.sh"
cmake --workflow --preset release
cmake --workflow --preset debug
bash .ci/libcamera-matrix.sh
bash .ci/virtual-camera.sh

# ThreadSanitizer over the capture thread <-> I/O thread hand-offs (the test list is in the
# tsan test preset), then every libFuzzer target for 30 s from its corpus (clang-14).
cmake --workflow --preset tsan
cmake --workflow --preset fuzz
tests/fuzz/run.sh

# The Debian package: built and linted as this user (no root needed), then installed with apt
# into a fresh bookworm root (root: mmdebstrap, chroot, mounts). The arm64 cross build with its
# qemu-user smoke test (packaging/build-deb-arm64.sh, about 10 minutes) is run by hand: its last
# result is in docs/install.md.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# nocheck: the unit tests already ran above, in the release and sanitizer builds.
DEB_BUILD_OPTIONS=nocheck packaging/build-deb.sh
as_root packaging/test-deb.sh
