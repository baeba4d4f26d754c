#!/usr/bin/env bash
# quant logger into ClickHouse, two measurements on one private redis-server
# (AOF, fsync every second: the production setting) and one private
# clickhouse-server 18.16 (tests/clickhouse/server.sh), all on this machine:
#   1. flat out: logger_feed fills 100 md:tick streams with N ticks (plus
#      fills, order acks and metrics), then `quant logger --drain` inserts them
#      (defaults: batches of 10,000 rows or 200 ms); rows/s = rows inserted /
#      the logger's wall time, start-up included. Three runs, each with its own
#      consumer group and database over the same entries; median.
#   2. paced: 10 Hz x 100 symbols (1,000 ticks/s) for SECONDS while the logger
#      runs; lag per row = when its insert was confirmed (HTTP 200, the
#      logger's clock) - when the tick was produced (its recv_ns, the feed's
#      clock: one machine, one clock); p50/p99/max from the logger's summary.
# Each twice: with config/clickhouse/schema.sql's PARTITION BY (symbol,
# toYYYYMM(ts)) — an insert writes one part per symbol in the batch — and with
# PARTITION BY toYYYYMM(ts) (one part per insert), to show what the symbol in
# the partition key costs. Also ClickHouse's active parts after each run.
# The report is printed and saved to bench/results/clickhouse_<date>.txt.
# Builds nothing: cmake --build BUILD --target quant logger_feed.
# Usage: bench/clickhouse/run.sh [BUILD_DIR=build/bench] [SECONDS=60] [TICKS=200000]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/bench}")
SECONDS_PACED=${2:-60}
TICKS=${3:-200000}
QUANT="$BUILD/apps/quant/quant"
FEED="$BUILD/src/logger/logger_feed"
RESULTS="$ROOT/bench/results"
REPORT="$RESULTS/clickhouse_$(date -u +%Y%m%d).txt"
die() { echo "bench/clickhouse: $*" >&2; exit 1; }
[[ -x $QUANT && -x $FEED ]] || die "build first: cmake --build $BUILD --target quant logger_feed"
command -v redis-server >/dev/null || die "redis-server is not installed (scripts/setup.sh installs it)"
command -v clickhouse-server >/dev/null || die "clickhouse-server is not installed (scripts/setup.sh installs it)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

WORK=$(mktemp -d)
RPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK" --appendonly yes --appendfsync everysec --save "" \
  --daemonize no --logfile "$WORK/redis.log" &
REDIS=$!
trap 'kill $REDIS 2>/dev/null; wait $REDIS 2>/dev/null; bash "$ROOT/tests/clickhouse/server.sh" kill "$WORK/ch"; rm -rf "$WORK"' EXIT
for ((i = 0; i < 200; i++)); do
  [[ $(redis-cli -p "$RPORT" ping 2>/dev/null) == PONG ]] && break
  sleep 0.05
done
CHPORT=$(bash "$ROOT/tests/clickhouse/server.sh" start "$WORK/ch") || die "clickhouse-server did not start"
CH="http://127.0.0.1:$CHPORT"
chq() { curl -sS "$CH/" --data-binary "$1 FORMAT TabSeparated"; }
SYMBOLS=$(python3 -c 'print(",".join("S%03d" % i for i in range(100)))')
# quant logger's command line for DATABASE, with its own consumer group of the same name.
logger_cmd() {
  CMD=("$QUANT" --config "$ROOT/config/quant.toml" logger --redis "127.0.0.1:$RPORT" --clickhouse "$CH"
       --database "$1" --symbols "$SYMBOLS" --group "$1" --progress 1000)
}

mkdir -p "$RESULTS"
# create_tables DATABASE VARIANT: config/clickhouse/schema.sql as it is ("symbol_month"), or with
# PARTITION BY toYYYYMM(ts) only ("month": the symbol stays first in ORDER BY), for comparison.
create_tables() {
  chq "CREATE DATABASE IF NOT EXISTS $1" >/dev/null
  python3 - "$ROOT/config/clickhouse/schema.sql" "$2" >"$WORK/schema_$2.sql" <<'PY'
import re, sys
sql = re.sub(r"--[^\n]*", "", open(sys.argv[1]).read())
if sys.argv[2] == "month":
    sql = sql.replace("PARTITION BY (symbol, toYYYYMM(ts))", "PARTITION BY toYYYYMM(ts)")
print("\0".join(s.strip() for s in sql.split(";") if s.strip()), end="")
PY
  while IFS= read -r -d '' stmt; do
    curl -sS "$CH/?database=$1" --data-binary "$stmt" >/dev/null
  done < <(cat "$WORK/schema_$2.sql"; printf '\0')
}
{
echo "# ClickHouse logger benchmark, $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load before: $LOAD0"
echo "# clickhouse-server $(chq 'SELECT version()'), $(redis-server --version | cut -d' ' -f1-3), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), build $BUILD"
echo "# all on loopback; feed, logger, redis-server and clickhouse-server share the cores"
echo "# variants: symbol_month = config/clickhouse/schema.sql (PARTITION BY (symbol, toYYYYMM(ts)));"
echo "#           month = the same tables with PARTITION BY toYYYYMM(ts), for comparison"
echo
"$FEED" --port "$RPORT" --symbols 100 --hz 0 --ticks "$TICKS" --batch 1000 --fill-every 50 --metrics-every 100 >"$WORK/feed1.out"
echo "## 1. flat out: entries already in Redis ($(cat "$WORK/feed1.out")),"
echo "##    drained by quant logger --drain (batch 10000 rows / 200 ms); lag is meaningless here (pre-filled)"
for variant in symbol_month month; do
  rates=()
  for run in 1 2 3; do
    db="flat_${variant}_$run"
    create_tables "$db" "$variant"
    logger_cmd "$db"
    out=$("${CMD[@]}" --drain 2>"$WORK/$db.err" | tail -1)
    rate=$(grep -o '([0-9]* rows/s)' <<<"$out" | tr -dc 0-9)
    rates+=("$rate")
    secs=$(grep -o 'after [0-9.]* s' <<<"$out")
    echo "$variant run $run: $rate rows/s ($secs; ticks FINAL $(chq "SELECT count() FROM $db.ticks FINAL"), active parts $(chq "SELECT count() FROM system.parts WHERE database = '$db' AND active"))"
  done
  echo "$variant: flat-out rows/s, median of 3: $(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)"
done
echo

for variant in symbol_month month; do
  echo "## 2. paced: 10 Hz x 100 symbols (1,000 ticks/s) for $SECONDS_PACED s, $variant, quant logger defaults (10000 rows / 200 ms)"
  db="paced_$variant"
  create_tables "$db" "$variant"
  logger_cmd "$db"
  "${CMD[@]}" --from-now >"$WORK/$db.out" 2>"$WORK/$db.err" &
  LOGGER=$!
  sleep 2  # its group exists (from now) before the feed starts
  "$FEED" --port "$RPORT" --symbols 100 --hz 10 --seconds "$SECONDS_PACED" --fill-every 100 --metrics-every 100 >"$WORK/feed2.out"
  echo "feed: $(cat "$WORK/feed2.out")"
  for ((i = 0; i < 300; i++)); do  # until the logger has caught up (nothing pending), at most 30 s
    [[ $(redis-cli -p "$RPORT" xpending md:tick:S099 "$db" | head -1) == 0 ]] && break
    sleep 0.1
  done
  kill -TERM "$LOGGER"
  wait "$LOGGER" || die "the logger failed: $(tail -3 "$WORK/$db.err")"
  echo "$(tail -1 "$WORK/$db.out")"
  echo "  ticks FINAL $(chq "SELECT count() FROM $db.ticks FINAL"), active parts $(chq "SELECT count() FROM system.parts WHERE database = '$db' AND active")"
  echo
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$REPORT.tmp"
mv "$REPORT.tmp" "$REPORT"
echo "saved $REPORT"
