#!/usr/bin/env bash
# Installs every Debian package expertflow needs to build, test and run, then the pinned npm
# packages of the dashboard (web/package-lock.json) and of the contract test
# (tests/contract/package-lock.json). Idempotent; run as root (or with sudo). Packages
# already present are not downloaded again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev librocksdb-dev rocksdb-tools
  nlohmann-json3-dev libspdlog-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev libcli11-dev
  libhowardhinnant-date-dev libjemalloc-dev libxlsxwriter-dev
  clang-19 libclang-rt-19-dev
  python3 curl
  golang-go golang-golang-x-mod-dev
  chromium fonts-dejavu-core
  prometheus  # for promtool alone: the suite checks /metrics and the alert rules with it
)
# node and npm may come from Debian or be there already from another source; only a missing
# command asks for Debian's package.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The dashboard's charting library and the browser test's driver, exactly as the lockfile pins
# them. Skipped when node_modules was installed from this very lockfile (the stamp is its copy).
# The contract test's validating proxy, type generator and compiler (tests/contract/) likewise.
for dir in web tests/contract; do
  pkg="$(dirname "$0")/../$dir"
  if ! cmp -s "$pkg/package-lock.json" "$pkg/node_modules/.installed-lock.json" 2>/dev/null; then
    (cd "$pkg" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
  fi
done
