#!/usr/bin/env bash
# The transparency log checked from outside by Go's checksum-database code (tlogverify/main.go):
# a demo server on a fresh store (tens of thousands of events) with a checkpoint every 1,000
# events or second; the verifier runs on its latest checkpoint, then again after a few more
# events on a newer one, proving it consistent with the first.
#
# Environment: EXPERTFLOW_BINARY (the server) and TLOGVERIFY (the built Go program).
set -uo pipefail

fail() {
  echo "run_tlogverify: FAIL: $*" >&2
  exit 1
}

[[ -x "${EXPERTFLOW_BINARY:-}" ]] || fail "EXPERTFLOW_BINARY is not an executable: ${EXPERTFLOW_BINARY:-unset}"
[[ -x "${TLOGVERIFY:-}" ]] || fail "TLOGVERIFY is not an executable: ${TLOGVERIFY:-unset}"
command -v curl >/dev/null || fail "curl is needed"

work=$(mktemp -d "${TMPDIR:-/tmp}/tlogverify.XXXXXX") || fail "no temporary folder"
server=""
cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$EXPERTFLOW_BINARY" serve --demo --data "$work/data" --listen 127.0.0.1:0 --threads 2 \
  --log-level warn --checkpoint-events 1000 --checkpoint-interval PT1S \
  >"$work/server.out" 2>"$work/server.err" &
server=$!

# The demo writes its events first, then the server says where it listens.
port=""
for _ in $(seq 1 2400); do
  port=$(sed -n 's/^expertflow listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.out")
  [[ -n "$port" ]] && break
  kill -0 "$server" 2>/dev/null || {
    cat "$work/server.out" "$work/server.err" >&2
    fail "the server exited before listening"
  }
  sleep 0.1
done
[[ -n "$port" ]] || fail "the server did not listen within 240 s"
base="http://127.0.0.1:$port"

token() { sed -n "s/^  $1 ([^)]*): \([^ ]*\)\$/\1/p" "$work/server.out" | head -n 1; }
auditor=$(token auditor)
umc=$(token "UMC lead")
[[ -n "$auditor" && -n "$umc" ]] || {
  cat "$work/server.out" >&2
  fail "no auditor or UMC lead token in the server's output"
}
vkey=$("$EXPERTFLOW_BINARY" key show --data "$work/data") || fail "key show failed"

# Waits until the latest checkpoint covers the whole log and is larger than $1; prints its size.
wait_checkpoint() {
  local above=$1 head size code
  for _ in $(seq 1 600); do
    head=$(curl -s "$base/readyz" | sed -n 's/.*"head_seq":\([0-9]*\).*/\1/p')
    code=$(curl -s -o "$work/checkpoint" -w '%{http_code}' \
      -H "Authorization: Bearer $auditor" "$base/api/v1/log/checkpoint")
    size=$(sed -n 2p "$work/checkpoint")
    if [[ "$code" == 200 && -n "$head" && "$size" == "$head" ]] && ((size > above)); then
      echo "$size"
      return 0
    fi
    sleep 0.2
  done
  echo "run_tlogverify: no checkpoint of the whole log above size $above within 120 s" \
    "(last: HTTP $code, size ${size:-none}, head ${head:-unknown})" >&2
  return 1
}

status=0
first=$(wait_checkpoint 0) || fail "no first checkpoint"
echo "run_tlogverify: checkpoint of size $first"
"$TLOGVERIFY" -url "$base" -token "$auditor" -vkey "$vkey" -save "$work/first.note" || status=1
[[ -s "$work/first.note" ]] || curl -s -o "$work/first.note" \
  -H "Authorization: Bearer $auditor" "$base/api/v1/log/checkpoint"

# A few more events, then a newer checkpoint, consistent with the first.
for i in 1 2 3; do
  code=$(curl -s -o "$work/post" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $umc" -H 'Content-Type: application/json' \
    -d "{\"workflow\":\"industry_proposal\",\"payload\":{\"title\":\"tlog $i\",\"topic\":\"infrastructure\",\"summary\":\"s\"}}" \
    "$base/api/v1/proposals")
  [[ "$code" == 201 ]] || fail "POST /api/v1/proposals: expected 201, got $code: $(head -c 300 "$work/post")"
done
sleep 1
second=$(wait_checkpoint "$first") || fail "no newer checkpoint"
echo "run_tlogverify: newer checkpoint of size $second"
"$TLOGVERIFY" -url "$base" -token "$auditor" -vkey "$vkey" -old "$work/first.note" || status=1

kill -0 "$server" 2>/dev/null || {
  cat "$work/server.err" >&2
  fail "the server died"
}
((status == 0)) || fail "the verifier found problems (above)"
echo "run_tlogverify: OK"
