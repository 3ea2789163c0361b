#!/usr/bin/env bash
# Builds expertflow and runs the whole test suite; ends with ctest's summary line.
# Installs what it needs first (scripts/setup.sh). BUILD_DIR chooses the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build="${BUILD_DIR:-build}"
jobs="$(nproc)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600
