#!/bin/sh
# Writes camstream@.service, the template unit for one camstream per config file
# (/etc/camstream/INSTANCE.conf), from camstream.service, so that the two units cannot drift:
# the same sandbox, notify and watchdog settings; only the description, the config file and the
# comment on top differ. Used by CMake's install and by debian/rules.
#   packaging/template-unit.sh camstream.service camstream@.service
set -eu
[ $# -eq 2 ] || { echo "usage: $0 SERVICE TEMPLATE" >&2; exit 2; }
{
  echo "# camstream@INSTANCE: one camstream per /etc/camstream/INSTANCE.conf, for one process per"
  echo "# camera: \`systemctl enable --now camstream@nozzle camstream@bed\`. Give each config its own"
  echo "# port. Generated from camstream.service by packaging/template-unit.sh."
  sed -e '/^#/d' \
      -e 's|^Description=\(.*\)|Description=\1 (%i)|' \
      -e 's|^\(ExecStart=.* -c \)/etc/camstream/camstream.conf|\1/etc/camstream/%i.conf|' "$1"
} >"$2.tmp"
grep -q '^ExecStart=.*/etc/camstream/%i.conf$' "$2.tmp" || {
  echo "$0: no ExecStart with -c /etc/camstream/camstream.conf in $1" >&2
  rm -f "$2.tmp"
  exit 1
}
mv "$2.tmp" "$2"
