#!/usr/bin/env bash
# Installs every build and test dependency of camstream from Debian's archive
# (Debian bookworm or Raspberry Pi OS). Does nothing when all is there; otherwise installs the
# missing ones, as root, or through sudo when run by another user. The build list matches
# Build-Depends in debian/control (`apt-get build-dep ./` installs the same).
set -euo pipefail

# Boost 1.81 on bookworm; trixie (and Raspberry Pi OS trixie) has 1.83 instead.
boost=1.81
. /etc/os-release 2>/dev/null || true
case "${VERSION_CODENAME:-}" in trixie|forky|sid) boost=1.83 ;; esac

build_packages=(
  build-essential cmake ninja-build pkg-config
  "libboost${boost}-dev" "libboost-json${boost}-dev" libturbojpeg0-dev libjpeg62-turbo-dev libcli11-dev libspdlog-dev
  libcamera-dev libsystemd-dev
  libyuv-dev
  libcrypt-dev libssl-dev
)
test_packages=(
  libgtest-dev libbenchmark-dev curl ffmpeg vlc python3 python3-pytest python3-websockets
  chromium libjpeg-turbo-progs
  clang-14 libclang-rt-14-dev  # the libFuzzer targets (fuzz preset)
  help2man mmdebstrap qemu-user-static binfmt-support
  openssl apache2-utils whois
  haproxy  # the relay tier test (tests/integration/test_tier.py, bench/tier.py)
)

# What packaging/build-deb.sh needs besides the build dependencies.
deb_packages=(debhelper lintian)

case "${1:-all}" in
  build) wanted=("${build_packages[@]}") ;;
  deb) wanted=("${build_packages[@]}" "${deb_packages[@]}") ;;
  all) wanted=("${build_packages[@]}" "${deb_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [build|deb|all]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js may come from elsewhere (with its own npm): only ask Debian for it when absent.
if [ "${1:-all}" = all ] && ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: missing ${missing[*]}: run as root or install sudo" >&2; exit 1; }
  exec sudo "$0" "$@"
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
  --no-install-recommends "${missing[@]}"
