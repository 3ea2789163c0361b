#!/usr/bin/env bash
# Builds expertflow and starts the server on its embedded store (RocksDB under ./data).
# Installs what it needs first (scripts/setup.sh). Extra arguments go to `expertflow serve`,
# e.g. `bash scripts/run.sh --demo` or `--listen 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target expertflow
exec "$build/app/expertflow" serve --data "${DATA_DIR:-data}" "$@"
