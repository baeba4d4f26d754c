#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently:
#   1. Debian packages (apt-get), only those missing;
#   2. pinned npm packages (DuckDB, ONNX Runtime, Lightweight Charts), integrity checked against
#      third_party.lock, unpacked into third_party/ (ignored by git); s3rver for the backup tests
#      with `npm ci` from tests/s3/package-lock.json into third_party/s3rver.
# As root it installs directly; otherwise it uses sudo and says so.
# A second run installs nothing and prints one line per step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# Debian packages. Keep sorted; one reason per group.
APT_PACKAGES=(
  # toolchain
  build-essential cmake g++ make ninja-build ccache pkg-config git ca-certificates
  clang libclang-rt-14-dev
  # make lint
  clang-format-14 clang-tidy-14
  # libraries of the core and tests
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev libexpected-dev
  nlohmann-json3-dev libtomlplusplus-dev libfmt-dev libspdlog-dev libcli11-dev
  libhowardhinnant-date-dev tzdata zlib1g-dev libzip-dev libssl-dev
  # ONNX model building (later: model export) and checking
  libonnx-dev libprotobuf-dev
  # gatekeeper training (XGBoost C API 1.7)
  libxgboost-dev
  # npm packages are fetched with npm; gzip/unzip for fixtures
  nodejs gzip unzip openssl
  # headless browser for the HTML report's render test
  chromium
  # signal service: HTTP server (Boost.Beast/Asio 1.74), metrics, integration tests
  libboost-dev prometheus-cpp-dev libsimdjson-dev curl python3 python3-jsonschema
  # signal service benchmark: load generator and the Python stack it is compared with
  wrk python3-fastapi python3-uvicorn python3-uvloop python3-httptools python3-xgboost python3-numpy
  # live path: the Redis Streams hub (client library, server and redis-benchmark for tests and bench)
  libhiredis-dev redis-server redis-tools
  # the live engine's remote gate: POST /infer of quant serve
  libcurl4-openssl-dev
  # quant logger: ClickHouse 18.16 (server for its tests and benchmark, client for queries by hand)
  clickhouse-server clickhouse-client
  # benchmarks: wall time and peak RSS (/usr/bin/time)
  time
  # the FIX 4.4 venue (QuickFIX 1.15; its headers compile as C++14 only)
  libquickfix-dev
  # deploy/: systemd-analyze verifies the units, nft -c the firewall (ctest deploy.files)
  systemd nftables
  # quant bot: the daily summary's equity chart (PNG)
  libcairo2-dev
  # monitoring: the Prometheus server and promtool for tests/monitor (its YAML config edited with PyYAML)
  prometheus python3-yaml
)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "not root and sudo is missing: run as root or install sudo"
  SUDO="sudo"
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm: the nodejs package of some distributions ships npm itself; Debian's needs the npm package.
if ! command -v npm >/dev/null; then missing+=(npm); fi

if ((${#missing[@]})); then
  [[ -n $SUDO ]] && say "not root: using sudo to install ${#missing[@]} Debian package(s)"
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp /tmp/quant-setup-apt.XXXXXX.log)
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 \
    || { tail -40 "$log" >&2; die "apt-get failed (full log: $log)"; }
  say "installed ${#missing[@]} package(s) (log: $log)"
else
  say "Debian packages: all ${#APT_PACKAGES[@]} present"
fi

"$ROOT/scripts/fetch_npm.sh"
# the local S3 server of the lake backup tests (npm ci from tests/s3/package-lock.json)
"$ROOT/scripts/fetch_s3rver.sh"
