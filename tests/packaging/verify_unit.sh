#!/bin/sh
# systemd-analyze verify of the unit as installed, with ExecStart pointed at the binary just
# built (verify checks that it is executable). Any warning fails: verify exits 0 on a value it
# could not parse and only says so.
set -eu
unit="$1" binary="$2" work="$3"
command -v systemd-analyze >/dev/null || exit 77
mkdir -p "$work/unit"
sed "s|/usr/local/bin/expertflow|$binary|" "$unit" >"$work/unit/expertflow.service"
out="$(systemd-analyze verify "$work/unit/expertflow.service" 2>&1)" || {
  echo "$out"
  exit 1
}
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
echo "systemd-analyze verify: clean"
