#!/usr/bin/env bash
# Builds expertflow and runs the whole test suite twice: an optimised build, then the same suite
# built with AddressSanitizer and UndefinedBehaviorSanitizer. Each run ends with ctest's summary
# line. Installs what it needs first (scripts/setup.sh). BUILD_DIR chooses the build folder;
# SANITIZE=0 skips the sanitizer run. The dashboard's browser test runs in the optimised pass
# only: under the sanitizers it would test Chromium's time, not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build="${BUILD_DIR:-build}"
jobs="$(nproc)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600

if [ "${SANITIZE:-1}" != 0 ]; then
  cmake -S . -B "$build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEXPERTFLOW_SANITIZE=ON \
    -DEXPERTFLOW_BUILD_BENCHMARKS=OFF -DEXPERTFLOW_BROWSER_TESTS=OFF
  cmake --build "$build-asan" -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$build-asan" --output-on-failure -j "$jobs" --timeout 900
fi
