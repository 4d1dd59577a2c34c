#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time from its checked-in corpus and fails on any
# crash, leak, sanitizer report, timeout or out-of-memory. Build them first:
#   cmake --workflow --preset fuzz
# Usage: tests/fuzz/run.sh [target...]     (default: every build/fuzz/fuzz_* program)
# Environment: FUZZ_SECONDS per target (30), FUZZ_RSS_MB (2048), FUZZ_BUILD (build/fuzz),
# FUZZ_WORK (where new inputs and crash files go; default a fresh temporary directory).
set -euo pipefail
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
build="${FUZZ_BUILD:-$source_dir/build/fuzz}"
seconds="${FUZZ_SECONDS:-30}"
rss_mb="${FUZZ_RSS_MB:-2048}"
work="${FUZZ_WORK:-$(mktemp -d /tmp/camstream-fuzz.XXXXXX)}"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for program in "$build"/fuzz_*; do
    [ -x "$program" ] && targets+=("$(basename "$program")")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz_* programs in $build: run 'cmake --workflow --preset fuzz' first" >&2
  exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for target in "${targets[@]}"; do
  program="$build/$target"
  seeds="$source_dir/tests/fuzz/$target"
  if [ ! -x "$program" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: $target: missing $program or its corpus $seeds" >&2
    exit 1
  fi
  # New inputs go to the first directory (scratch), never into the checked-in seeds.
  mkdir -p "$work/$target/corpus"
  echo "fuzz: $target for ${seconds}s ($work/$target)"
  if "$program" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$work/$target/" \
      "$work/$target/corpus" "$seeds" >"$work/$target/log" 2>&1; then
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
      "$work/$target/log" | tr '\n' ' '
    echo
  else
    echo "fuzz: $target FAILED; the end of its log ($work/$target/log):" >&2
    tail -n 60 "$work/$target/log" >&2
    ls "$work/$target"/crash-* "$work/$target"/leak-* "$work/$target"/timeout-* \
       "$work/$target"/oom-* 2>/dev/null >&2 || true
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]} (reproduce: build/fuzz/<target> <crash file>)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
