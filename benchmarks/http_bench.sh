#!/usr/bin/env bash
# HTTP figures of one server, side by side in one run (issue 4): GET /healthz (the trivial
# handler), GET of an instance, and durable command POSTs, each from 64 connections on loopback
# with wrk, bounded in time. Prints requests/s and p50/p99 latency for each.
# Usage: benchmarks/http_bench.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
seconds="${2:-10}"
bin="$build/app/expertflow"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
[ -x "$bin" ] || { echo "build $bin first (scripts/test.sh or cmake --build $build)"; exit 1; }

data="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT

assoc=$("$bin" token issue --data "$data" --org assoc-05 --role association_member --name bench)
"$bin" serve --data "$data" --listen "127.0.0.1:$port" --clock manual --log-level warn >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

api="http://127.0.0.1:$port/api/v1"
id=$(curl -sf -X POST "$api/proposals" -H "Authorization: Bearer $assoc" -H 'Content-Type: application/json' \
  -d '{"workflow":"industry_proposal","payload":{"title":"Нагрузочный тест","topic":"standard_programme","summary":"s"}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

lua="$data/post.lua"
cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $assoc"
wrk.body = '{"command":"update","payload":{"summary":"обновлено"}}'
LUA

run() {  # name, then wrk arguments
  local name="$1"; shift
  local out
  out=$(wrk -t2 -c64 -d"${seconds}s" --latency "$@")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  printf '| %-28s | %12s | %9s | %9s | %s |\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo "| request (64 connections, ${seconds}s) | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "GET /healthz" "http://127.0.0.1:$port/healthz"
run "GET /api/v1/proposals/{id}" -H "Authorization: Bearer $assoc" "$api/proposals/$id"
run "POST .../commands (durable)" -s "$lua" "$api/proposals/$id/commands"
echo
echo "events in the log: $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^expertflow_log_head_seq/ {print $2}'),"\
" commands per durable write: $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^expertflow_batch_commands_sum/ {s = $2} /^expertflow_batch_commands_count/ {n = $2} END {if (n) printf "%.1f", s / n}')"
