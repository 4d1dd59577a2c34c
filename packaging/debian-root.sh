# Sourced by the package tests: a fresh Debian bookworm root per run, unpacked from a base
# built once by mmdebstrap and cached outside the clone, and commands run inside it in a
# private mount namespace, so that no mount outlives the command or reaches the host.
#
# Environment: CAMSTREAM_CACHE_DIR (default /var/cache/camstream) holds the base roots;
# CAMSTREAM_DEBIAN_MIRROR overrides the archive (default: the machine's apt sources, else
# deb.debian.org). Needs root, mmdebstrap, unshare and chroot; fails loudly without them.

cache_dir=${CAMSTREAM_CACHE_DIR:-/var/cache/camstream}

debroot_log() { printf '%s: %s\n' "${debroot_name:-debian-root}" "$*" >&2; }
debroot_die() { debroot_log "FAIL: $*"; exit 1; }

debroot_mirror() {
  local mirror=${CAMSTREAM_DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(grep -hoE '(URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
      2>/dev/null | grep -oE 'https?://[^[:space:]]+' | grep -m1 -E '/debian/?$' || true)
  fi
  printf '%s\n' "${mirror:-http://deb.debian.org/debian}"
}

# debroot_base NAME [mmdebstrap options...]: prints the path of the cached base tarball NAME,
# building it first if absent. Concurrent runs wait for each other (flock).
debroot_base() {
  local name=$1 tarball
  shift
  tarball="$cache_dir/$name.tar"
  [ "$(id -u)" -eq 0 ] || debroot_die "needs root (mmdebstrap --mode=root, chroot, mount)"
  local tool
  for tool in mmdebstrap unshare chroot flock; do
    command -v "$tool" >/dev/null || debroot_die "$tool is not installed (packaging/install-deps.sh)"
  done
  mkdir -p "$cache_dir"
  (
    flock 9
    if [ ! -s "$tarball" ]; then
      debroot_log "building the base root $tarball (once; mmdebstrap)"
      local mirror
      mirror=$(debroot_mirror)
      mmdebstrap --mode=root --variant=apt --format=tar "$@" bookworm "$tarball.tmp" \
        "deb $mirror bookworm main" "deb $mirror bookworm-updates main" >&2 ||
        { rm -f "$tarball.tmp"; debroot_die "mmdebstrap failed"; }
      mv "$tarball.tmp" "$tarball"
    fi
  ) 9>"$cache_dir/$name.lock"
  [ -s "$tarball" ] || debroot_die "no base root $tarball"
  printf '%s\n' "$tarball"
}

# debroot_unpack TARBALL DIR: a fresh root in DIR (which must not exist yet).
debroot_unpack() {
  local tarball=$1 dir=$2
  mkdir -p "$dir"
  tar -C "$dir" -xf "$tarball" || debroot_die "cannot unpack $tarball"
  cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
}

# debroot_run DIR SCRIPT [ARGS...]: runs the bash SCRIPT inside the root DIR, in a private
# mount namespace with /proc, /dev and /sys mounted and the apt archive cache shared between
# runs, plus the "HOST:INSIDE" directories of the array debroot_binds. All mounts vanish when
# the namespace ends, even if the script fails.
debroot_binds=()
debroot_run() {
  local dir=$1 script=$2
  shift 2
  mkdir -p "$cache_dir/apt-archives/partial"
  unshare --mount --propagation private -- bash -euc '
    dir=$1 archives=$2 binds=$3
    shift 3
    mount -t proc proc "$dir/proc"
    mount --rbind /dev "$dir/dev"
    mount -t sysfs sysfs "$dir/sys"
    mount --bind "$archives" "$dir/var/cache/apt/archives"
    for bind in $binds; do mount --bind "${bind%%:*}" "$dir${bind#*:}"; done
    exec chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive bash -euo pipefail -c "$@"
  ' debroot "$dir" "$cache_dir/apt-archives" "${debroot_binds[*]:-}" "$script" debroot "$@"
}

# debroot_remove DIR: deletes a root, refusing if anything is still mounted below it.
debroot_remove() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if findmnt -rn -o TARGET | grep -q "^$dir/"; then
    debroot_die "something is still mounted under $dir: not removing it"
  fi
  rm -rf --one-file-system "$dir"
}
