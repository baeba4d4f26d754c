#!/usr/bin/env bash
# End-to-end benchmarks, printed as a report and saved to bench/results/.
#  1. Ingest: `quant ingest` vs DuckDB's own read_csv → COPY (FORMAT parquet,
#     PARTITION_BY symbol/year/month) on the same files, alternating, N runs
#     each, medians and their ratio (same run, same machine state).
#  2. Lake reads: Google Benchmark lake_bench (one month into memory; a year
#     streamed with peak RSS).
#  3. Backtest: ma_breakout + risk engine (equity_output "day") from the lake:
#     bench/backtest_bench on 100k/1M/10M generated bars (one process each, so
#     peak RSS per size is meaningful; memory must stay flat), the engine
#     thread alone on in-memory bars, and `quant backtest` on the real WIN file
#     and the six EURUSD months ingested into a temporary lake.
# Usage: bench/run.sh [BUILD_DIR=build/bench] [RUNS=7]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/bench}")
RUNS=${2:-7}
DATA="$ROOT/../shared/data"
QUANT="$BUILD/apps/quant/quant"
DUCK="$BUILD/bench/duckdb_sql"
[[ -d $DATA ]] || { echo "bench: $DATA is absent: the ingest benchmark needs the real data"; exit 0; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RESULTS="$ROOT/bench/results"; mkdir -p "$RESULTS"
REPORT="$RESULTS/$(date -u +%Y%m%dT%H%M%SZ).txt"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# name rows quant-args... -- duckdb-sql
bench_pair() {
  local name=$1 rows=$2; shift 2
  local qargs=() sql
  while [[ $1 != -- ]]; do qargs+=("$1"); shift; done; shift; sql=$1
  : > "$WORK/q.t"; : > "$WORK/d.t"
  for ((i = 0; i < RUNS; i++)); do
    rm -rf "$WORK/lake" "$WORK/native"
    local t0=$(now_ns); "$QUANT" --config "$ROOT/config/quant.toml" --lake "$WORK/lake" -q ingest "${qargs[@]}" >/dev/null
    echo $(( $(now_ns) - t0 )) >> "$WORK/q.t"
    t0=$(now_ns); "$DUCK" "${sql//@OUT@/$WORK/native}" >/dev/null
    echo $(( $(now_ns) - t0 )) >> "$WORK/d.t"
  done
  local qm dm; qm=$(median < "$WORK/q.t"); dm=$(median < "$WORK/d.t")
  awk -v n="$name" -v r="$rows" -v q="$qm" -v d="$dm" -v runs="$RUNS" 'BEGIN {
    printf "%-28s rows %7d | quant ingest %7.1f ms (%9.0f rows/s) | duckdb read_csv→parquet %7.1f ms (%9.0f rows/s) | quant is %.2fx DuckDB (median of %d)\n",
      n, r, q/1e6, r/(q/1e9), d/1e6, r/(d/1e9), d/q, runs }'
}

{
echo "# QuantTrading benchmarks, $(date -u +%FT%TZ), $(nproc) cores, $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "## Ingest: quant ingest (parse + validate + tz + dedup-merge + Parquet) vs DuckDB native"
FX=$(ls "$DATA"/fx/DAT_ASCII_EURUSD_M1_2017*.csv.gz)
FX_LIST=$(printf "'%s'," $FX); FX_LIST="[${FX_LIST%,}]"
bench_pair "EURUSD HistData 6 months" 186348 -f histdata -s EURUSD $FX -- \
  "COPY (SELECT 'EURUSD' AS symbol, ts, open, high, low, close, volume, year(ts) AS year, month(ts) AS month FROM (
     SELECT strptime(dt, '%Y%m%d %H%M%S') + INTERVAL 5 HOUR AS ts, open, high, low, close, volume
     FROM read_csv($FX_LIST, delim=';', header=false,
       columns={'dt':'VARCHAR','open':'DOUBLE','high':'DOUBLE','low':'DOUBLE','close':'DOUBLE','volume':'DOUBLE'})))
   TO '@OUT@' (FORMAT parquet, PARTITION_BY (symbol, year, month), COMPRESSION zstd)"
WIN="$DATA/b3/WIN_N_M1_2020-11_2021-03.csv.gz"
bench_pair "WIN MT5 export" 54003 -f mt5-bars -s WIN "$WIN" -- \
  "COPY (SELECT 'WIN' AS symbol, ts, open, high, low, close, tick, volume, spread, year(ts) AS year, month(ts) AS month FROM (
     SELECT strptime(CAST(\"Date\" AS VARCHAR) || ' ' || CAST(\"Time\" AS VARCHAR), '%Y-%m-%d %H:%M:%S') + INTERVAL 3 HOUR AS ts, *
     FROM read_csv('$WIN', header=true)))
   TO '@OUT@' (FORMAT parquet, PARTITION_BY (symbol, year, month), COMPRESSION zstd)"
echo
echo "## Lake reads (Google Benchmark, median of repetitions)"
"$BUILD/src/lake/lake_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "median|Benchmark|---" || true
echo
echo "## Backtest: ma_breakout + risk engine, equity_output day (bars/s of the run loop; peak RSS of the process)"
BB="$BUILD/bench/backtest_bench"
for n in 100000 1000000 10000000; do "$BB" --bars $n; done
for n in 1000000 10000000; do "$BB" --bars $n --feed memory; done
sed 's/^equity_output = "bar"/equity_output = "day"/' "$ROOT/config/quant.toml" > "$WORK/qday.toml"
"$QUANT" --config "$WORK/qday.toml" --lake "$WORK/btlake" -q ingest -f mt5-bars -s WIN "$WIN" >/dev/null
"$QUANT" --config "$WORK/qday.toml" --lake "$WORK/btlake" -q ingest -f histdata -s EURUSD $FX >/dev/null
for sym in WIN EURUSD; do
  for ((i = 0; i < 3; i++)); do
    /usr/bin/time -f "%M" -o "$WORK/rss" "$QUANT" --config "$WORK/qday.toml" --lake "$WORK/btlake" -q backtest \
      -s $sym --out "$WORK/run.$sym" --no-report > "$WORK/bt.out"
    echo "$(head -1 "$WORK/bt.out") | peak RSS $(awk '{printf "%.1f", $1/1024}' "$WORK/rss") MB"
  done
done
} | tee "$REPORT"
echo "saved: $REPORT"
