#!/usr/bin/env bash
# Issue 18: the upload of a 64 MiB attachment to a running server against what the disk allows
# for the same bytes (`cp` then `sync`), side by side, ROUNDS times each (a new file each round:
# the same content would be answered from the store at once). Prints one line per round and the
# median of each. Usage: benchmarks/tools/upload_bench.sh [ROUNDS] (5); BINARY=build/app/expertflow.
set -euo pipefail
rounds="${1:-5}"
binary="${BINARY:-build/app/expertflow}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
"$binary" serve --data "$work/data" --listen 127.0.0.1:0 --log-level warn >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do
  port="$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$work/server.log" | grep -oE '[0-9]+$' || true)"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
admin="$(cat "$work/data/admin.token")"
token="$(curl -s -X POST "http://127.0.0.1:$port/api/v1/tokens" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"org":"umc-05","role":"umc_lead"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
mkdir -p "$work/copies"
up=() cp_=()
for i in $(seq 1 "$rounds"); do
  head -c $((64 << 20)) /dev/urandom >"$work/file-$i"
  sync
  t="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST \
    "http://127.0.0.1:$port/api/v1/attachments?name=file-$i.bin" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$work/file-$i")"
  [ "${t%% *}" = 201 ] || { echo "upload answered ${t%% *}" >&2; exit 1; }
  u="${t#* }"
  start="$(date +%s.%N)"
  cp "$work/file-$i" "$work/copies/file-$i" && sync
  c="$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')"
  up+=("$u") cp_+=("$c")
  printf 'round %d: upload %.3f s (%.0f MiB/s), cp+sync %.3f s (%.0f MiB/s)\n' "$i" "$u" \
    "$(awk -v t="$u" 'BEGIN {print 64 / t}')" "$c" "$(awk -v t="$c" 'BEGIN {print 64 / t}')"
  rm -f "$work/file-$i" "$work/copies/file-$i"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mu="$(median "${up[@]}")" mc="$(median "${cp_[@]}")"
printf 'median: upload %.3f s (%.0f MiB/s), cp+sync %.3f s (%.0f MiB/s): the upload at %.0f%% of the copy\n' \
  "$mu" "$(awk -v t="$mu" 'BEGIN {print 64 / t}')" "$mc" "$(awk -v t="$mc" 'BEGIN {print 64 / t}')" \
  "$(awk -v a="$mc" -v b="$mu" 'BEGIN {print 100 * a / b}')"
