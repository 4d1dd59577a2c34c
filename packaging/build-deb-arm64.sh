#!/usr/bin/env bash
# The Raspberry Pi's architecture: cross-builds camstream_VERSION_arm64.deb (+ -dbgsym) with
# Debian's crossbuild-essential-arm64 and the :arm64 build dependencies of debian/control, in a
# Debian bookworm root (amd64 with arm64 added; built once by mmdebstrap and cached in
# $CAMSTREAM_CACHE_DIR, default /var/cache/camstream; the machine's own packages stay as they
# are). Then lintian checks the package (no error, no warning), and qemu-user runs its binary
# on this machine with the root as the arm64 library tree: --version, --list-cameras, and the
# test source streaming for 3 s to curl.
#
# Usage (as root): packaging/build-deb-arm64.sh     -> build/deb-arm64/
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
debroot_name=build-deb-arm64
# shellcheck source=packaging/debian-root.sh
. "$root/packaging/debian-root.sh"
out="$root/build/deb-arm64"

for tool in qemu-aarch64-static curl lintian dpkg-parsechangelog; do
  command -v "$tool" >/dev/null || debroot_die "$tool is not installed (packaging/install-deps.sh)"
done
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)

start=$(date +%s)
base=$(debroot_base bookworm-cross-arm64 --architectures=amd64,arm64 \
  --include=build-essential,crossbuild-essential-arm64,debhelper,cmake,ninja-build,pkg-config,ccache)
work=$(mktemp -d /var/tmp/camstream-arm64.XXXXXX)
server_pid=
cleanup() {
  [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  debroot_remove "$work"
}
trap cleanup EXIT
debroot_unpack "$base" "$work/root"
debroot_log "root ready in $(($(date +%s) - start)) s"

# The source as a commit of the working tree would hold it.
mkdir -p "$work/root/build/src"
git -C "$root" ls-files -z --cached --others --exclude-standard |
  (cd "$root" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh) |
  tar -C "$root" --null -T - -cf - | tar -C "$work/root/build/src" -xf -

# ccache survives between runs next to the base root.
mkdir -p "$cache_dir/ccache-arm64" "$work/root/root/.ccache"
debroot_binds=("$cache_dir/ccache-arm64:/root/.ccache")
build_start=$(date +%s)
debroot_log "cross-building (log: $out/build.log)"
mkdir -p "$out"
rm -f "$out"/camstream*
if ! debroot_run "$work/root" '
  apt-get update -qq
  apt-get build-dep -y -qq -a arm64 --no-install-recommends ./build/src >/tmp/build-dep.log 2>&1 ||
    { cat /tmp/build-dep.log; exit 1; }
  cd /build/src
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_DIR=/root/.ccache
  DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -a arm64 -Pcross,nocheck -b -us -uc
' >"$out/build.log" 2>&1; then
  tail -60 "$out/build.log" >&2
  debroot_die "the arm64 build failed (log: $out/build.log)"
fi
cp "$work/root/build/"camstream*"${version}"* "$out/"
deb="$out/camstream_${version}_arm64.deb"
[ -f "$deb" ] || debroot_die "no $deb"
[ -f "$out/camstream-dbgsym_${version}_arm64.deb" ] || debroot_die "no -dbgsym package"
debroot_log "built in $(($(date +%s) - build_start)) s: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"

lintian --fail-on error,warning --display-level '>=warning' "$out/camstream_${version}_arm64.changes" ||
  debroot_die "lintian reports errors or warnings for the arm64 package"
debroot_log "lintian: no error, no warning"

# --- Smoke test under qemu-user ------------------------------------------------------------
dpkg-deb -x "$deb" "$work/pkg"
binary="$work/pkg/usr/bin/camstream"
file_type=$(od -An -tx1 -j18 -N2 "$binary" | tr -d ' ')
[ "$file_type" = b700 ] || debroot_die "$binary is not an AArch64 ELF (e_machine $file_type)"
qemu() { LIBCAMERA_LOG_LEVELS='*:ERROR' qemu-aarch64-static -L "$work/root" "$binary" "$@"; }

version_text=$(qemu --version) || debroot_die "camstream --version failed under qemu"
grep -q "^camstream $version" <<<"$version_text" || debroot_die "--version printed: $version_text"
debroot_log "qemu: --version: $(tr '\n' ' ' <<<"$version_text")"
cameras=$(qemu --list-cameras 2>&1) || debroot_die "--list-cameras failed under qemu: $cameras"
debroot_log "qemu: --list-cameras: $(tr '\n' ' ' <<<"$cameras")"

LIBCAMERA_LOG_LEVELS='*:ERROR' qemu-aarch64-static -L "$work/root" "$binary" --source test \
  --bind 127.0.0.1 --port 0 --width 640 --height 480 --interval 100 >"$work/out.log" 2>"$work/err.log" &
server_pid=$!
port=
for _ in $(seq 300); do
  port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/|\1|p' "$work/out.log")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/err.log" >&2; debroot_die "camstream did not listen under qemu"; }
curl_code=0
curl -s --noproxy '*' --max-time 3 -o "$work/stream.bin" "http://127.0.0.1:$port/stream" ||
  curl_code=$?
[ "$curl_code" -eq 28 ] || debroot_die "curl: exit $curl_code (expected 28: stopped after 3 s)"
parts=$(grep -ac 'Content-Type: image/jpeg' "$work/stream.bin" || true)
bytes=$(stat -c %s "$work/stream.bin")
[ "${parts:-0}" -ge 10 ] || debroot_die "only ${parts:-0} JPEG parts in 3 s under qemu"
kill -TERM "$server_pid"
code=0
wait "$server_pid" || code=$?
server_pid=
[ "$code" -eq 0 ] || debroot_die "camstream exited with $code after SIGTERM under qemu"
debroot_log "qemu: streamed $parts JPEG parts ($bytes bytes) in 3 s to curl, exit 0 on SIGTERM"
debroot_log "passed in $(($(date +%s) - start)) s"
