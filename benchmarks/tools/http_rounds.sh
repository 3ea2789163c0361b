#!/usr/bin/env bash
# Durable HTTP commands in rounds, for looking at the tail (issue 19): one store of STORE_EVENTS
# events built through the sequencer, a fresh copy of it served for each label, and ROUNDS rounds
# of wrk (64 connections, 10 s) of `update` commands to 2,000 proposals (v2 allows 1,000 commands
# in a state), each printing its
# throughput, p99, p99.9 and max, then the server's write-time histogram from /metrics and its
# peak and present resident memory.
# Environment variables given to this script reach the server (for trying a setting);
# REBUILD_FIRST=1 runs the two `rebuild` commands of `benchmarks/run` before serving.
#
# Usage: benchmarks/tools/http_rounds.sh [ROUNDS] [STORE_EVENTS] [--build DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-4}
store_events=${2:-1000000}
build=build
[ "${3:-}" = "--build" ] && build="$4"
server="$build/app/expertflow"
work="$(mktemp -d "${TMPDIR:-/tmp}/expertflow-rounds.XXXXXX")"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

"$build/benchmarks/expertflow_bench_store" --data "$work/store" --events "$store_events" \
  --pool 2000 --ids "$work/ids.txt" >/dev/null
token=$("$server" token issue --data "$work/store" --org assoc-05 --role association_member)
# REBUILD_FIRST=1: rebuild the views and every projection first, as `benchmarks/run` does.
if [ "${REBUILD_FIRST:-0}" = 1 ]; then
  "$server" rebuild --data "$work/store" --projection instance_views >/dev/null 2>&1
  "$server" rebuild --data "$work/store" --projection all >/dev/null 2>&1
fi
# The fixture writes without syncing: out to the disk before the rounds, which would otherwise
# share it with the kernel's writeback of the store (as benchmarks/run does).
sync
cat >"$work/req.lua" <<LUA
local ids = {}
for line in io.lines("$work/ids.txt") do ids[#ids + 1] = line end
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n) end
function init(args) math.randomseed(seed or 1) end
local headers = {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"}
local body = '{"command":"update","payload":{"summary":"Обновлённая позиция ассоциации"}}'
function request()
  return wrk.format("POST", "/api/v1/proposals/" .. ids[math.random(#ids)] .. "/commands",
                    headers, body)
end
function done(summary, latency, requests)
  io.write(string.format("p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n", latency:percentile(99) / 1000,
                         latency:percentile(99.9) / 1000, latency.max / 1000))
end
LUA
port=$((20000 + RANDOM % 10000))
"$server" serve --data "$work/store" --listen "127.0.0.1:$port" --clock manual \
  --clock-start 2026-01-12T09:00:00Z --log-level warn >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q 'listening on' "$work/serve.log" && break; sleep 0.1; done
echo "after start: $(grep -E '^VmHWM' "/proc/$pid/status" | tr -s ' \t' ' ')"
for r in $(seq "$rounds"); do
  out=$(wrk -t2 -c64 -d10s -s "$work/req.lua" "http://127.0.0.1:$port/")
  echo "round $r: $(awk '/Requests\/sec/ {print $2 " requests/s"}' <<<"$out"), $(grep '^p99 ' <<<"$out")"
done
curl -s "http://127.0.0.1:$port/metrics" | grep '^expertflow_batch_write_seconds'
# The server's peak and present resident memory (issue 19's RSS goal is on the peak).
grep -E '^Vm(HWM|RSS)' "/proc/$pid/status"
