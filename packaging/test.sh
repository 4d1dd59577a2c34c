#!/usr/bin/env bash
# The whole test suite: every test under AddressSanitizer and UndefinedBehaviorSanitizer, the
# capture and I/O thread hand-offs under ThreadSanitizer, the libcamera version matrix, a real
# libcamera 0.7.1 camera (the virtual one, in a Debian trixie root), the fuzz targets, and the
# Debian package: built with its unit tests, the rest of the suite run on that same release
# build, linted, and installed into a fresh bookworm root. Run from anywhere, as root or with
# sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/install-deps.sh"
# ccache, when installed, makes a rerun on the same machine faster; nothing here needs it.
with_ccache() {
  if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
    CMAKE_CXX_COMPILER_LAUNCHER=ccache "$@"
  else
    "$@"
  fi
}
# The release build is the Debian package's own (at the end): one release build, not two.
with_ccache cmake --workflow --preset debug
# ThreadSanitizer: the capture and stream unit tests (the source and encoder threads) and the
# integration tests that stream from a real camstream (the selection and why: docs/fuzzing.md).
with_ccache cmake --workflow --preset tsan
bash .ci/libcamera-matrix.sh
bash .ci/virtual-camera.sh

# Every libFuzzer target for 30 s from its corpus (clang-14).
with_ccache cmake --workflow --preset fuzz
tests/fuzz/run.sh

# The Debian package: built with its unit tests (dh_auto_test) and linted as this user (no root
# needed). The integration, browser and man page tests then run on the package's build tree:
# the release binary that ships. Last, the package is installed with apt into a fresh bookworm
# root (root: mmdebstrap, chroot, mounts). The arm64 cross build with its qemu-user smoke test
# (packaging/build-deb-arm64.sh, about 10 minutes) is run by hand: its last result is in
# docs/install.md.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
packaging/build-deb.sh
package_build=$(find build/deb -mindepth 2 -maxdepth 2 -type d -name 'obj-*' -print -quit)
[ -n "$package_build" ] || { echo "test: no obj-* build tree under build/deb" >&2; exit 1; }
ctest --test-dir "$package_build" --output-on-failure -j2 --timeout 300 -L 'integration|browser|man'
# The soak (bench/soak.py, docs/performance.md) for a minute on the test source and a minute
# on a relay whose upstream is killed and restarted every 20 s, on the same release binary:
# descriptors, threads and RSS at the end must be those after the first minute.
for soak_args in "" "--relay --upstream-restart 20"; do
  # shellcheck disable=SC2086
  /usr/bin/python3 bench/soak.py --binary "$package_build/src/camstream" --minutes 1 $soak_args
done
as_root packaging/test-deb.sh
