#!/usr/bin/env bash
# Tick-to-order latency of the live path, end to end on this machine:
#   bench/live/live_latency_bench (the terminal and the venue) → quant bridge →
#   Redis Streams → quant live (the trading kernel per symbol, journal fsync) →
#   exec:orders → quant bridge → the terminal.
# Per N symbols (1, 10, 100): a fresh redis-server (loopback, AOF everysec: the
# production setting), quant bridge, quant live --symbols S000..S<N-1>
# --from-start, then the terminal: 10 ticks/s per symbol and one closed M1 bar
# per symbol per second (time compressed 60x). Latency = arrival of an
# order_new at the terminal − send time of the last bar of its symbol.
# The instruments S000..S099 are WIN copies in a temporary config (config/quant.toml
# + [instruments.Sxxx]); the strategy is sma_cross with short periods so it
# reverses often (see STRATEGY below; written into the result file).
# The report is printed and saved to bench/results/live_latency_<date>.txt.
# Builds nothing: cmake --preset bench && cmake --build build/bench --target quant live_latency_bench
# KEEP=1 keeps the work directory (logs, orders.csv per order, exec:orders and the bar streams).
# METRICS=1 serves Prometheus metrics from quant bridge and quant live (--metrics) and scrapes
# both every second during the run, as Prometheus would: the instrumentation's cost.
# Usage: bench/live/run.sh [BUILD_DIR=build/bench] [SECONDS=60] [SYMBOL_COUNTS="1 10 100"]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/bench}")
SECONDS_EACH=${2:-60}
COUNTS=${3:-"1 10 100"}
QUANT="$BUILD/apps/quant/quant"
BENCH="$BUILD/bench/live_latency_bench"
RESULTS="$ROOT/bench/results"
REPORT="$RESULTS/live_latency_$(date -u +%Y%m%d)${METRICS:+_metrics$METRICS}.txt"
die() { echo "bench/live: $*" >&2; exit 1; }
[[ -x $QUANT ]] || die "$QUANT is missing: cmake --build $BUILD --target quant"
[[ -x $BENCH ]] || die "$BENCH is missing: cmake --build $BUILD --target live_latency_bench"
command -v redis-server >/dev/null || die "redis-server is not installed (scripts/setup.sh installs it)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${KEEP:-} ]]; then echo "bench/live: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The temporary config: sma_cross with short periods (always in the market,
# reverses at every cross), no daily breaker (a random walk must not halt the
# run), and 100 WIN-like instruments on the B3 calendar.
STRATEGY="sma_cross fast=2 slow=5 (the reference: always in the market, 1 contract, market orders, reverses at every cross; no risk engine, no session rules)"
python3 - "$ROOT/config/quant.toml" "$WORK/quant.toml" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
src = re.sub(r'(?m)^name = "ma_breakout".*$', 'name = "sma_cross"', src, count=1)
src = re.sub(r'(?ms)^\[strategy\.sma_cross\]\nfast = \d+\nslow = \d+', '[strategy.sma_cross]\nfast = 2\nslow = 5', src)
src = re.sub(r'(?m)^daily_loss_pct = [0-9.]+', 'daily_loss_pct = 0.99', src)
win = re.search(r'(?ms)^\[instruments\.WIN\]\n(.*?)\n\n', src).group(1)
extra = "".join(f"\n[instruments.S{i:03d}]\n{win}\n" for i in range(100))
open(sys.argv[2], "w").write(src + "\n# bench/live/run.sh: WIN copies\n" + extra)
PY
grep -q '^name = "sma_cross"' "$WORK/quant.toml" || die "could not switch the temporary config to sma_cross"

# run_one N: a fresh stack, one bench run; prints the bench's result line.
run_one() {
  local n=$1 dir=$WORK/n$1 rport bport syms
  mkdir -p "$dir"
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync everysec --save "" \
    --daemonize no --logfile "$dir/redis.log" &
  local redis=$!; PIDS+=($redis)
  for ((i = 0; i < 200; i++)); do
    [[ $(redis-cli -p "$rport" ping 2>/dev/null) == PONG ]] && break
    sleep 0.05
  done
  syms=$(python3 -c "print(','.join(f'S{i:03d}' for i in range($n)))")
  bport=$(free_port)
  local bmetrics=() lmetrics=() mb ml
  if [[ ${METRICS:-0} == 1 ]]; then
    mb=$(free_port); ml=$(free_port)
    bmetrics=(--metrics 127.0.0.1:$mb); lmetrics=(--metrics 127.0.0.1:$ml)
  fi
  "$QUANT" --config "$WORK/quant.toml" bridge --listen 127.0.0.1:$bport --redis 127.0.0.1:$rport "${bmetrics[@]}" \
    >"$dir/bridge.log" 2>&1 &
  local bridge=$!; PIDS+=($bridge)
  "$QUANT" --config "$WORK/quant.toml" live --symbols "$syms" --redis 127.0.0.1:$rport --state "$dir/live" \
    --session B --from-start "${lmetrics[@]}" >"$dir/live.log" 2>&1 &
  local live=$!; PIDS+=($live)
  local scraper=
  if [[ ${METRICS:-0} == 1 ]]; then
    (while sleep 1; do curl -fsS "http://127.0.0.1:$mb/metrics" "http://127.0.0.1:$ml/metrics" >/dev/null 2>&1; done) &
    scraper=$!; PIDS+=($scraper)
  fi
  # quant live is up once its consumer group exists.
  for ((i = 0; i < 200; i++)); do
    grep -q "trading" "$dir/live.log" 2>/dev/null && break
    sleep 0.05
  done
  "$BENCH" --port "$bport" --symbols "$n" --seconds "$SECONDS_EACH" --dump "$dir/orders.csv" 2>"$dir/bench.err" | tee "$dir/result.txt" ||
    { cat "$dir/bench.err" "$dir/bridge.log" "$dir/live.log" >&2; die "the bench failed at N=$n"; }
  if [[ -n $scraper ]]; then kill $scraper; wait $scraper 2>/dev/null || true; fi
  kill -TERM $live; wait $live || true
  kill -TERM $bridge; wait $bridge || true
  if [[ -n ${KEEP:-} ]]; then
    redis-cli -p "$rport" XRANGE exec:orders - + >"$dir/exec_orders.txt"
    for s in ${syms//,/ }; do redis-cli -p "$rport" XRANGE md:bar1m:$s - +; done >"$dir/bars.txt"
  fi
  kill $redis; wait $redis || true
  grep -E "HALTED|halt" "$dir/live.log" "$dir/bridge.log" >&2 || true
}

mkdir -p "$RESULTS"
{
echo "# live tick-to-order latency, $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load before: $LOAD0"
echo "# $(redis-server --version | cut -d' ' -f1-3), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src apps 2>/dev/null || echo '+dirty'), build $BUILD"
echo "# redis-server: loopback, appendonly yes, appendfsync everysec; terminal, bridge, live and redis share the cores"
echo "# strategy: $STRATEGY; instruments S000..S099 = WIN copies (B3 calendar), bars from 2025-06-02 10:00 BRT"
echo "# load: 10 ticks/s per symbol + 1 closed M1 bar per symbol per second (60x compressed time), ${SECONDS_EACH} s per N"
echo "# latency: order_new arrival at the terminal - send time of its symbol's last bar (first 5 s left out)"
echo "# command: METRICS=${METRICS:-0} bench/live/run.sh $BUILD $SECONDS_EACH \"$COUNTS\" (METRICS=1: --metrics on bridge and live, both scraped every second)"
echo
for n in $COUNTS; do run_one "$n" > "$WORK/line.$n"; done
printf "%8s %10s %8s %8s %9s %9s %9s %9s\n" symbols tick_rate/s orders measured p50_ms p99_ms p99.9_ms max_ms
for n in $COUNTS; do
  awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
        printf "%8s %10s %8s %8s %9.3f %9.3f %9.3f %9.3f\n", v["symbols"], v["tick_rate"], v["orders"], v["measured"],
          v["p50_ms"], v["p99_ms"], v["p999_ms"], v["max_ms"]}' "$WORK/line.$n"
done
echo
echo "## raw result lines"
cat $(for n in $COUNTS; do echo "$WORK/line.$n"; done)
} | tee "$REPORT"
echo "saved: $REPORT"
