#!/usr/bin/env bash
# Installs the package with apt into a fresh Debian bookworm root and checks what Debian policy
# and the unit promise: camstream runs (--version, a stream from the test source as the
# camstream user with the service's command line), the system user exists in group video, the
# unit is enabled but not started, the socket is neither, the config is a conffile;
# `apt-get remove` keeps /etc/camstream/camstream.conf, `apt-get purge` removes it.
#
# Usage (as root): packaging/test-deb.sh [build/deb/camstream_VERSION_ARCH.deb]
# The base root is built once by mmdebstrap into $CAMSTREAM_CACHE_DIR (default
# /var/cache/camstream) and unpacked afresh for every run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
debroot_name=test-deb
# shellcheck source=packaging/debian-root.sh
. "$root/packaging/debian-root.sh"

deb=${1:-}
if [ -z "$deb" ]; then
  deb=$(find "$root/build/deb" -maxdepth 1 -name "camstream_*_$(dpkg --print-architecture).deb" \
    -print -quit 2>/dev/null || true)
fi
[ -n "$deb" ] && [ -f "$deb" ] || debroot_die "no package: run packaging/build-deb.sh first"

start=$(date +%s)
base=$(debroot_base bookworm-root)
work=$(mktemp -d /var/tmp/camstream-test-deb.XXXXXX)
trap 'debroot_remove "$work"' EXIT
debroot_unpack "$base" "$work/root"
cp "$deb" "$work/root/tmp/"

debroot_log "installing $(basename "$deb") with apt into a fresh bookworm root"
debroot_run "$work/root" '
  deb=/tmp/$1
  fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$deb" >/tmp/install.log 2>&1 ||
    { cat /tmp/install.log; fail "apt-get install"; }

  version=$(camstream --version) || fail "camstream --version"
  echo "$version"
  grep -q "^camstream [0-9]" <<<"$version" || fail "--version printed: $version"

  getent passwd camstream >/dev/null || fail "no user camstream"
  id -nG camstream | grep -qw video || fail "camstream is not in group video: $(id -nG camstream)"
  [ "$(getent passwd camstream | cut -d: -f7)" = /usr/sbin/nologin ] || fail "camstream has a login shell"

  unit=/usr/lib/systemd/system/camstream.service
  [ -f "$unit" ] || fail "no $unit"
  grep -qx "Type=notify" "$unit" || fail "the unit is not Type=notify"
  grep -q "^ExecStart=/usr/bin/camstream " "$unit" || fail "ExecStart does not name /usr/bin/camstream"
  [ -L /etc/systemd/system/multi-user.target.wants/camstream.service ] || fail "the service is not enabled"
  [ -f /usr/lib/systemd/system/camstream.socket ] || fail "no camstream.socket"
  systemd-analyze verify --man=no "$unit" /usr/lib/systemd/system/camstream.socket ||
    fail "systemd-analyze verify rejects the units"
  [ ! -e /etc/systemd/system/sockets.target.wants/camstream.socket ] || fail "the socket is enabled"
  dpkg-query -W -f="\${Conffiles}\n" camstream | grep -q "/etc/camstream/camstream.conf" ||
    fail "/etc/camstream/camstream.conf is not a conffile"
  [ -f /usr/share/man/man1/camstream.1.gz ] || fail "no man page"

  # The service'"'"'s command line as its user, on a free port, with the test source: a stream.
  # setpriv execs camstream (runuser would stay its parent and take the SIGTERM itself).
  setpriv --reuid=camstream --regid=camstream --init-groups /usr/bin/camstream -c /etc/camstream/camstream.conf --source test \
    --bind 127.0.0.1 --port 0 >/tmp/out.log 2>/tmp/err.log &
  pid=$!
  for _ in $(seq 100); do grep -q "^listening on" /tmp/out.log && break; sleep 0.1; done
  port=$(sed -n "s|^listening on http://127.0.0.1:\([0-9]*\)/|\1|p" /tmp/out.log)
  [ -n "$port" ] || { cat /tmp/err.log; fail "camstream did not listen"; }
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf "GET /snapshot HTTP/1.0\r\n\r\n" >&3
  response=$(head -c 200 <&3 | tr -d "\0" || true)
  [[ "$response" == "HTTP/1."[01]" 200 "* ]] || fail "no snapshot from the installed camstream: ${response:0:80}"
  exec 3<&-
  kill -TERM "$pid"
  wait "$pid" || fail "camstream exited with $? after SIGTERM"
  echo "installed: ok (streams as user camstream from its config file)"

  # One process per camera: camstream@INSTANCE.service reads /etc/camstream/INSTANCE.conf. Two
  # instances run at once from the template'"'"'s own ExecStart; stopping one leaves the other.
  template=/usr/lib/systemd/system/camstream@.service
  [ -f "$template" ] || fail "no $template"
  [ ! -e /etc/systemd/system/multi-user.target.wants/camstream@.service ] || fail "the template is enabled"
  cp "$template" /tmp/camstream@nozzle.service
  systemd-analyze verify --man=no /tmp/camstream@nozzle.service || fail "systemd-analyze verify rejects camstream@nozzle"
  exec_start=$(sed -n "s/^ExecStart=//p" "$template")
  [ "$exec_start" = "/usr/bin/camstream -c /etc/camstream/%i.conf" ] || fail "template ExecStart: $exec_start"
  declare -A pids ports
  for instance in nozzle bed; do
    printf "source = \"test\"\nbind = \"127.0.0.1\"\nport = 0\nwidth = 320\nheight = 240\n" \
      >/etc/camstream/$instance.conf
    setpriv --reuid=camstream --regid=camstream --init-groups ${exec_start//%i/$instance} \
      >/tmp/$instance.out 2>/tmp/$instance.err &
    pids[$instance]=$!
  done
  for instance in nozzle bed; do
    for _ in $(seq 100); do grep -q "^listening on" /tmp/$instance.out && break; sleep 0.1; done
    ports[$instance]=$(sed -n "s|^listening on http://127.0.0.1:\([0-9]*\)/|\1|p" /tmp/$instance.out)
    [ -n "${ports[$instance]}" ] || { cat /tmp/$instance.err; fail "camstream@$instance did not listen"; }
  done
  [ "${ports[nozzle]}" != "${ports[bed]}" ] || fail "both instances on one port"
  snapshot() {
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf "GET /snapshot HTTP/1.0\r\n\r\n" >&3
    head -c 200 <&3 | tr -d "\0" || true
    exec 3<&-
  }
  for instance in nozzle bed; do
    [[ "$(snapshot "${ports[$instance]}")" == "HTTP/1."[01]" 200 "* ]] || fail "no snapshot from camstream@$instance"
  done
  kill -TERM "${pids[nozzle]}"
  wait "${pids[nozzle]}" || fail "camstream@nozzle exited with $? after SIGTERM"
  [[ "$(snapshot "${ports[bed]}")" == "HTTP/1."[01]" 200 "* ]] || fail "camstream@bed stopped with nozzle"
  kill -TERM "${pids[bed]}"
  wait "${pids[bed]}" || fail "camstream@bed exited with $? after SIGTERM"
  rm /etc/camstream/nozzle.conf /etc/camstream/bed.conf
  echo "template: ok (camstream@nozzle and camstream@bed from their own config files)"

  echo "# edited by the administrator" >>/etc/camstream/camstream.conf
  apt-get remove -y -qq camstream >/dev/null
  [ ! -e /usr/bin/camstream ] || fail "remove left /usr/bin/camstream"
  [ -f /etc/camstream/camstream.conf ] || fail "remove deleted the config"
  grep -q "edited by the administrator" /etc/camstream/camstream.conf || fail "remove changed the config"
  dpkg-query -W -f="\${db:Status-Status}\n" camstream | grep -qx config-files ||
    fail "after remove the package is $(dpkg-query -W -f="\${db:Status-Status}" camstream)"
  echo "removed: ok (config kept)"

  apt-get purge -y -qq camstream >/dev/null
  [ ! -e /etc/camstream/camstream.conf ] || fail "purge left /etc/camstream/camstream.conf"
  [ ! -e /etc/camstream ] || fail "purge left /etc/camstream"
  [ ! -L /etc/systemd/system/multi-user.target.wants/camstream.service ] || fail "purge left the enable link"
  echo "purged: ok (config gone)"
' "$(basename "$deb")"

debroot_log "passed in $(($(date +%s) - start)) s"
