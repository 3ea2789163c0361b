#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz for a bounded time on its seed corpus (kept in the
# repo, never written to: new inputs go to a scratch folder). Fails on the first crash, leak,
# sanitizer report or broken promise; the input that did it is left in the artifacts folder.
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS_EACH]   (the build made with -DEXPERTFLOW_FUZZ=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"
seconds="${2:-60}"
scratch="$(mktemp -d)"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
trap 'rm -rf "$scratch"' EXIT

for target in router payload definition import; do
  mkdir -p "$scratch/$target"
  args=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/$target-")
  [ -f "tests/fuzz/$target.dict" ] && args+=(-dict="tests/fuzz/$target.dict")
  log="$build/fuzz-$target.log"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/tests/fuzz/${target}_fuzz" "${args[@]}" "$scratch/$target" "tests/fuzz/corpus/$target" \
      >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED; the input is in $artifacts"
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)"
  echo "fuzz: $target ok: $runs executions in ${seconds} s ($rate exec/s), $cov"
done
