#!/usr/bin/env bash
# Builds the Debian package (debian/) from a copy of the tree, so that nothing is written next
# to the clone: build/deb/camstream_VERSION_ARCH.deb and camstream-dbgsym_VERSION_ARCH.deb.
# Then lintian checks the source and the binaries: any error or warning fails.
#
#   packaging/build-deb.sh            # needs the Build-Depends of debian/control:
#                                     #   sudo apt-get build-dep ./   (or mk-build-deps)
# Environment: DEB_BUILD_OPTIONS as usual (e.g. nocheck); CAMSTREAM_LINTIAN=0 skips lintian
# (the arm64 cross build lints its result on the host instead).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${CAMSTREAM_DEB_OUT:-$root/build/deb}
log() { printf 'build-deb: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || die "$tool is not installed (packaging/install-deps.sh)"
done
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
src="$out/camstream-$version"

start=$(date +%s)
mkdir -p "$out"
rm -rf "$src" "$out"/camstream_* "$out"/camstream-dbgsym_*
mkdir -p "$src"
# The tracked files plus new ones not ignored: what a commit of the working tree would hold.
git -C "$root" ls-files -z --cached --others --exclude-standard |
  (cd "$root" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh) |
  tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -

# The source package from the clean tree, before the build leaves obj-*/ and debian/ files.
(cd "$out" && dpkg-source -b "$src" >/dev/null) || die "dpkg-source -b failed"
parallel=$(nproc 2>/dev/null || echo 2)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$parallel"
(cd "$src" && dpkg-buildpackage -b -us -uc "$@") >"$out/build.log" 2>&1 ||
  { tail -60 "$out/build.log" >&2; die "dpkg-buildpackage failed (log: $out/build.log)"; }
log "built in $(($(date +%s) - start)) s: $(cd "$out" && ls camstream*.deb | tr '\n' ' ')"

if [ "${CAMSTREAM_LINTIAN:-1}" != 0 ]; then
  changes=$(find "$out" -maxdepth 1 -name "camstream_${version}_*.changes" -print -quit)
  [ -n "$changes" ] || die "no .changes file in $out"
  lintian --fail-on error,warning --info --display-level '>=warning' \
    "$changes" "$out/camstream_${version}.dsc" || die "lintian reports errors or warnings"
  log "lintian: no error, no warning"
fi
