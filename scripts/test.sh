#!/usr/bin/env bash
# Builds expertflow and runs the whole test suite twice: an optimised build, then the same suite
# built with AddressSanitizer and UndefinedBehaviorSanitizer. Each run ends with ctest's summary
# line. Between them, a soak of the real server (20 s with CI=true, else 120 s; SOAK_SECONDS
# overrides) and each fuzz target for FUZZ_SECONDS (60) with clang's libFuzzer.
# Installs what it needs first (scripts/setup.sh). BUILD_DIR chooses the build folder;
# SANITIZE=0, SOAK=0 and FUZZ=0 skip those parts. The dashboard's browser test runs in the
# optimised pass only: under the sanitizers it would test Chromium's time, not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build="${BUILD_DIR:-build}"
jobs="$(nproc)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600

if [ "${SOAK:-1}" != 0 ]; then
  cmake --build "$build" -j "$jobs" --target soak
  "$build/tests/app/soak" ${SOAK_SECONDS:+--seconds "$SOAK_SECONDS"}
fi

if [ "${FUZZ:-1}" != 0 ]; then
  cmake -S . -B "$build-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-19 -DEXPERTFLOW_FUZZ=ON
  cmake --build "$build-fuzz" -j "$jobs"
  bash scripts/fuzz.sh "$build-fuzz" "${FUZZ_SECONDS:-60}"
fi

if [ "${SANITIZE:-1}" != 0 ]; then
  cmake -S . -B "$build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEXPERTFLOW_SANITIZE=ON \
    -DEXPERTFLOW_BUILD_BENCHMARKS=OFF -DEXPERTFLOW_BROWSER_TESTS=OFF \
    -DEXPERTFLOW_CONTRACT_TESTS=OFF
  cmake --build "$build-asan" -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$build-asan" --output-on-failure -j "$jobs" --timeout 900
fi
