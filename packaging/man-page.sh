#!/usr/bin/env bash
# The man page docs/camstream.1 is help2man's rendering of `camstream --help` and `--version`
# plus docs/camstream.h2m. After changing an option, regenerate it:
#   packaging/man-page.sh build/release/src/camstream
# With --check (a CTest test), fail if the committed page differs from a fresh rendering
# (the header comment and the .TH line, which carry the date and the help2man version, aside).
set -euo pipefail

check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--check] CAMSTREAM_BINARY" >&2; exit 2; }
binary=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
page="$root/docs/camstream.1"

command -v help2man >/dev/null || { echo "man-page: help2man is not installed" >&2; exit 1; }
[ -x "$binary" ] || { echo "man-page: $binary is not an executable" >&2; exit 1; }

render() {
  # Only camstream's own version: the libcamera line of --version depends on the build.
  local version
  version=$(LIBCAMERA_LOG_LEVELS='*:ERROR' "$binary" --version | sed -n '1s/^camstream //p')
  [ -n "$version" ] || { echo "man-page: $binary --version printed no version" >&2; exit 1; }
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)} \
    help2man --no-info --section=1 --include="$root/docs/camstream.h2m" \
    --name="MJPEG camera streamer" --version-string="$version" "$binary"
}

if [ "$check" -eq 0 ]; then
  render >"$page.tmp" && mv "$page.tmp" "$page"
  echo "man-page: wrote $page"
  exit 0
fi

fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
render >"$fresh"
strip() { grep -v -e '^\.\\"' -e '^\.TH ' "$1"; }
if ! diff -u <(strip "$page") <(strip "$fresh"); then
  echo "man-page: docs/camstream.1 is out of date: run packaging/man-page.sh $binary" >&2
  exit 1
fi
echo "man-page: docs/camstream.1 matches --help"
