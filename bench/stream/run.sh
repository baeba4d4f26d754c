#!/usr/bin/env bash
# The stream hub against Redis's own ceiling, same run, same server:
#   1. a private redis-server on a free loopback port (AOF on, fsync every
#      second: the production setting; nothing else running on it);
#   2. build/.../bench/stream_bench: one producer thread publishing
#      md:tick:S000..S099 (paced 10 Hz x 100 symbols, then flat-out pipelines of
#      1000 XADD MAXLEN ~ 100000), one consumer of group "bench" reading all 100
#      streams merged in id order and acknowledging each batch; messages/s
#      published and consumed, end-to-end lag p50/p99 (producer's ts field vs the
#      time read() returned it; one process, one clock);
#   3. the ceiling: redis-benchmark -P 64 -n 200000 XADD of the same shape
#      (one stream, two fields, MAXLEN ~), and our flat-out rates as % of it;
#   4. redis-server's own CPU per message (its main thread's run time from
#      /proc/PID/schedstat; the split inside commands from INFO commandstats)
#      end to end against per XADD in the ceiling run, and the end-to-end rate
#      one saturated server core would carry, as % of the ceiling (consuming
#      through a group costs the server more than the XADD: pending-list
#      entries, an XCLAIM propagated to the AOF per delivered entry, XACK).
# The report is printed and saved to bench/results/stream_<date>.txt. Builds
# nothing: `cmake --preset bench && cmake --build build/bench --target stream_bench`.
# Usage: bench/stream/run.sh [BUILD_DIR=build/bench] [SECONDS=10]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/bench}")
SECONDS_EACH=${2:-10}
BENCH="$BUILD/bench/stream_bench"
RESULTS="$ROOT/bench/results"
REPORT="$RESULTS/stream_$(date -u +%Y%m%d).txt"
die() { echo "bench/stream: $*" >&2; exit 1; }
[[ -x $BENCH ]] || die "$BENCH is missing: cmake --preset bench && cmake --build build/bench --target stream_bench"
command -v redis-server >/dev/null || die "redis-server is not installed (scripts/setup.sh installs it)"
command -v redis-benchmark >/dev/null || die "redis-benchmark is not installed (package redis-tools)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --appendonly yes --appendfsync everysec --save "" \
  --daemonize no --logfile "$WORK/redis.log" &
REDIS=$!
trap 'kill $REDIS 2>/dev/null; wait $REDIS 2>/dev/null; rm -rf "$WORK"' EXIT
for ((i = 0; i < 200; i++)); do
  [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break
  sleep 0.05
done
[[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] || die "redis-server did not start: $(cat "$WORK/redis.log")"

mkdir -p "$RESULTS"
{
echo "# stream hub benchmark, $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load before: $LOAD0"
echo "# $(redis-server --version | cut -d' ' -f1-3), hiredis $(pkg-config --modversion hiredis 2>/dev/null || echo '?'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), build $BUILD"
echo "# redis-server: loopback, appendonly yes, appendfsync everysec, save off; producer, consumer and server share the cores"
echo
echo "## quant::stream: Producer -> Redis -> Consumer (group, merged, acked)"
redis-cli -p "$PORT" config resetstat >/dev/null
CPU0=$(cut -d' ' -f1 /proc/$REDIS/schedstat)
"$BENCH" --port "$PORT" --seconds "$SECONDS_EACH" | tee "$WORK/ours.txt"
CPU1=$(cut -d' ' -f1 /proc/$REDIS/schedstat)
redis-cli -p "$PORT" info commandstats | tr -d '\r' >"$WORK/ours.stats"
redis-cli -p "$PORT" config resetstat >/dev/null
echo
echo "## Ceiling: redis-benchmark -P 64 -n 200000 (50 clients), the same XADD shape"
CPU2=$(cut -d' ' -f1 /proc/$REDIS/schedstat)
redis-benchmark -p "$PORT" -P 64 -n 200000 -q XADD bench:s MAXLEN '~' 100000 '*' ts 1700000000000000000 px 100000 \
  2>/dev/null | tr '\r' '\n' | grep -v '^$' | tail -1 | tee "$WORK/ceiling.txt"
CPU3=$(cut -d' ' -f1 /proc/$REDIS/schedstat)
redis-cli -p "$PORT" info commandstats | tr -d '\r' >"$WORK/ceiling.stats"
CEIL=$(grep -oE '[0-9.]+ requests per second' "$WORK/ceiling.txt" | cut -d' ' -f1)
# usec spent inside a command, from INFO commandstats: usec <cmd> <file>
usec() { sed -n "s/^cmdstat_$1:.*[:,]usec=\([0-9]*\),.*/\1/p" "$2" | head -1; }
calls() { sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" "$2" | head -1; }
PUB=$(awk '/^flat-out/ {for (i = 1; i <= NF; i++) if ($i == "msg/s") {print $(i-1); exit}}' "$WORK/ours.txt")
CON=$(awk '/^flat-out/ {n = 0; for (i = 1; i <= NF; i++) if ($i == "msg/s") {n++; if (n == 2) {print $(i-1); exit}}}' "$WORK/ours.txt")
echo
awk -v c="$CEIL" -v p="$PUB" -v q="$CON" 'BEGIN {
  printf "flat-out publish %.0f msg/s = %.1f%% of the ceiling (%.0f XADD/s); consumed end to end %.0f msg/s = %.1f%%\n",
    p, 100 * p / c, c, q, 100 * q / c }'
awk -v n="$(calls xadd "$WORK/ours.stats")" -v a="$(usec xadd "$WORK/ours.stats")" \
  -v r="$(usec xreadgroup "$WORK/ours.stats")" -v k="$(usec xack "$WORK/ours.stats")" \
  -v cn="$(calls xadd "$WORK/ceiling.stats")" -v c="$CEIL" -v ours=$((CPU1 - CPU0)) -v ceil=$((CPU3 - CPU2)) 'BEGIN {
  if (n == 0 || cn == 0) exit
  e = ours / 1000 / n; x = ceil / 1000 / cn
  printf "redis-server CPU per message: end to end %.2f us (inside commands: XADD %.2f, XREADGROUP %.2f, XACK %.2f) vs %.2f us per XADD in the ceiling run (%.1fx); one saturated server core carries at most ~%.0f msg/s end to end = %.0f%% of the ceiling\n",
    e, a / n, r / n, k / n, x, e / x, 1e6 / e, 100 * 1e6 / e / c }'
} | tee "$REPORT"
echo "saved: $REPORT"
