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
