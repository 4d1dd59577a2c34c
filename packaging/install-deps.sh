#!/usr/bin/env bash
# Installs every build and test dependency of camstream from Debian's archive
# (Debian bookworm or Raspberry Pi OS). Run as root or with sudo; does nothing when all is there.
set -euo pipefail

# Boost 1.81 on bookworm; trixie (and Raspberry Pi OS trixie) has 1.83 instead.
boost=1.81
. /etc/os-release 2>/dev/null || true
case "${VERSION_CODENAME:-}" in trixie|forky|sid) boost=1.83 ;; esac

build_packages=(
  build-essential cmake ninja-build pkg-config
  "libboost${boost}-dev" "libboost-json${boost}-dev" libturbojpeg0-dev libcli11-dev libspdlog-dev
  libcamera-dev
  libcrypt-dev libssl-dev
)
test_packages=(
  libgtest-dev libbenchmark-dev curl ffmpeg vlc python3 python3-pytest python3-websockets
  chromium libjpeg-turbo-progs
  openssl apache2-utils whois
)

case "${1:-all}" in
  build) wanted=("${build_packages[@]}") ;;
  all) wanted=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
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

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
