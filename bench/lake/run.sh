#!/usr/bin/env bash
# The tick lake at B3 volumes (issue 13): a generated month of WIN-like trades
# (20 M trades, 21 sessions of March 2026, bench/lake/gen_trades.cpp) as CSV, then
# in the same run, alternating, RUNS times each:
#   (a) quant ingest of the month (default [lake] memory_budget_mb = 512, and 64):
#       wall, rows/s, peak RSS;
#   (b) DuckDB's own read_csv -> COPY (FORMAT parquet) of the same CSV through
#       libduckdb (bench/duckdb_sql.cpp), one file and PARTITION_BY day: wall, peak RSS;
#   (c) re-ingest of one session (952,381 trades) into the full month: the same
#       rows (all duplicates), a revised export (every 10th price one tick off)
#       without --replace (conflicts kept) and with --replace (the day rewritten):
#       wall, peak RSS (must be O(day), not O(month));
#   (d) quant lake ls / ls -p (a process each) and partitions() in one process,
#       first call and repeated (bench/lake/lake_ls_bench.cpp);
#   (e) the same 20 M trades as ONE day (a day far larger than the budget),
#       memory_budget_mb 64 and 512: wall, peak RSS (bounded by the budget);
#   (f) with BASE_QUANT=<a quant built before day partitions>: its month ingest
#       and its re-ingest of the session (monthly partitions), same run.
# Medians; report saved to bench/results/lake_ticks_<UTC date>.txt. Data under
# a temporary directory (TMPDIR, default /tmp), removed at the end.
# Usage: bench/lake/run.sh [BUILD_DIR=build/bench] [RUNS=3] [TRADES=20000000]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/bench}")
RUNS=${2:-3}
TRADES=${3:-20000000}
QUANT="$BUILD/apps/quant/quant"
DUCK="$BUILD/bench/duckdb_sql"
GEN="$BUILD/bench/gen_trades"
LSB="$BUILD/bench/lake_ls_bench"
for exe in "$QUANT" "$DUCK" "$GEN" "$LSB"; do
  [[ -x $exe ]] || { echo "bench/lake: $exe is missing: build quant duckdb_sql gen_trades lake_ls_bench in $BUILD"; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "bench/lake: /usr/bin/time is missing (apt-get install time)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lake_bench.XXXXXX"); trap 'rm -rf "$WORK"' EXIT
RESULTS="$ROOT/bench/results"; mkdir -p "$RESULTS"
REPORT="$RESULTS/lake_ticks_$(date -u +%Y%m%d).txt"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# timed NAME cmd...: appends "wall_s rss_kb" to $WORK/NAME.t
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  cat "$WORK/time" >> "$WORK/$name.t"
}
wall() { awk '{print $1}' "$WORK/$1.t" | median; }
rss_mb() { awk '{print $2 / 1024}' "$WORK/$1.t" | median; }
rss_max_mb() { awk '{print $2 / 1024}' "$WORK/$1.t" | sort -g | tail -1; }

sed 's/^memory_budget_mb = [0-9]*/memory_budget_mb = 512/' "$ROOT/config/quant.toml" > "$WORK/q512.toml"
sed 's/^memory_budget_mb = [0-9]*/memory_budget_mb = 64/' "$ROOT/config/quant.toml" > "$WORK/q64.toml"
grep -q '^memory_budget_mb = 64' "$WORK/q64.toml" || { echo "bench/lake: config/quant.toml has no [lake] memory_budget_mb"; exit 1; }
ING=(-q ingest -f trades -s WIN --tz America/Sao_Paulo)
# reingest NAME QUANT CONFIG LAKE: the session into a lake holding the month: the
# same rows, the revised export, the revised export with --replace.
reingest() {
  timed "$1_same" "$2" --config "$3" --lake "$4" "${ING[@]}" "$WORK/day.csv"
  timed "$1_conflict" "$2" --config "$3" --lake "$4" "${ING[@]}" "$WORK/day_rev.csv"
  timed "$1_replace" "$2" --config "$3" --lake "$4" "${ING[@]}" --replace "$WORK/day_rev.csv"
}

echo "[lake bench] generating $TRADES trades ..." >&2
t0=$(date +%s.%N)
"$GEN" "$WORK/month.csv" --trades "$TRADES" 2>/dev/null
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
"$GEN" "$WORK/day.csv" --trades "$TRADES" --session 11 2>/dev/null
"$GEN" "$WORK/day_rev.csv" --trades "$TRADES" --session 11 --revise 2>/dev/null
"$GEN" "$WORK/bigday.csv" --trades "$TRADES" --sessions 1 2>/dev/null
csv_mb=$(( $(stat -c %s "$WORK/month.csv") / 1048576 ))
day_rows=$(( $(wc -l < "$WORK/day.csv") - 1 ))

CSV_COLUMNS="columns={'time': 'TIMESTAMP', 'price': 'DOUBLE', 'volume': 'DOUBLE', 'side': 'VARCHAR'}"
for ((r = 0; r < RUNS; r++)); do
  echo "[lake bench] run $((r + 1))/$RUNS: ingest (512, 64 MiB budget), DuckDB read_csv -> COPY" >&2
  rm -rf "$WORK/lake64"; timed q64 "$QUANT" --config "$WORK/q64.toml" --lake "$WORK/lake64" "${ING[@]}" "$WORK/month.csv"
  rm -rf "$WORK/native.parquet"
  timed duck "$DUCK" "COPY (SELECT * FROM read_csv('$WORK/month.csv', header=true, $CSV_COLUMNS)) TO '$WORK/native.parquet' (FORMAT parquet, COMPRESSION zstd)"
  rm -rf "$WORK/lake"; timed q512 "$QUANT" --config "$WORK/q512.toml" --lake "$WORK/lake" "${ING[@]}" "$WORK/month.csv"
  rm -rf "$WORK/native_days"
  timed duckp "$DUCK" "COPY (SELECT *, day(time) AS day FROM read_csv('$WORK/month.csv', header=true, $CSV_COLUMNS)) TO '$WORK/native_days' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))"
done
rows=$("$QUANT" --config "$WORK/q512.toml" --lake "$WORK/lake" lake query "SELECT count(*) AS n FROM trades" | tail -1)
[[ $rows == "$TRADES" ]] || { echo "bench/lake: the lake holds $rows trades, not $TRADES" >&2; exit 1; }
lake_mb=$(du -sm "$WORK/lake/kind=trades" | cut -f1)
native_mb=$(du -sm "$WORK/native.parquet" | cut -f1)

for ((r = 0; r < RUNS; r++)); do
  echo "[lake bench] run $((r + 1))/$RUNS: a session re-ingested into the month" >&2
  rm -rf "$WORK/daylake"; timed day_fresh "$QUANT" --config "$WORK/q512.toml" --lake "$WORK/daylake" "${ING[@]}" "$WORK/day.csv"
  reingest day "$QUANT" "$WORK/q512.toml" "$WORK/lake"
  timed day_replace "$QUANT" --config "$WORK/q512.toml" --lake "$WORK/lake" "${ING[@]}" --replace "$WORK/day.csv"
done
grep -q "1 partition(s) written" <("$QUANT" --config "$WORK/q512.toml" --lake "$WORK/lake" ingest -f trades -s WIN \
  --tz America/Sao_Paulo --no-bars --replace "$WORK/day_rev.csv" 2>&1) ||
  { echo "bench/lake: a --replace of one session did not rewrite exactly one partition" >&2; exit 1; }

for ((r = 0; r < RUNS; r++)); do
  echo "[lake bench] run $((r + 1))/$RUNS: $TRADES trades in one day" >&2
  rm -rf "$WORK/biglake"; timed big64 "$QUANT" --config "$WORK/q64.toml" --lake "$WORK/biglake" "${ING[@]}" "$WORK/bigday.csv"
  rm -rf "$WORK/biglake"; timed big512 "$QUANT" --config "$WORK/q512.toml" --lake "$WORK/biglake" "${ING[@]}" "$WORK/bigday.csv"
done
big_rows=$("$QUANT" --config "$WORK/q512.toml" --lake "$WORK/biglake" lake query "SELECT count(*) AS n FROM trades" | tail -1)
[[ $big_rows == "$TRADES" ]] || { echo "bench/lake: the one-day lake holds $big_rows trades, not $TRADES" >&2; exit 1; }
rm -rf "$WORK/biglake" "$WORK/bigday.csv"

if [[ -n ${BASE_QUANT:-} ]]; then
  # The same config minus the keys the older build does not know.
  grep -v '^memory_budget_mb' "$WORK/q512.toml" | grep -v '^ *# 1/2 DuckDB' > "$WORK/qbase.toml"
  for ((r = 0; r < RUNS; r++)); do
    echo "[lake bench] run $((r + 1))/$RUNS: the previous build (monthly partitions)" >&2
    rm -rf "$WORK/baselake"; timed base_month "$BASE_QUANT" --config "$WORK/qbase.toml" --lake "$WORK/baselake" "${ING[@]}" "$WORK/month.csv"
    reingest base "$BASE_QUANT" "$WORK/qbase.toml" "$WORK/baselake"
  done
  rm -rf "$WORK/baselake"
fi

for ((r = 0; r < 11; r++)); do
  timed ls "$QUANT" --config "$WORK/q512.toml" --lake "$WORK/lake" lake ls
  timed lsp "$QUANT" --config "$WORK/q512.toml" --lake "$WORK/lake" lake ls -p
done
read -r n_parts n_rows first_ms repeat_ms < <("$LSB" "$WORK/lake" 21)

rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.2f", n / s / 1e6}'; }
{
  echo "# Tick lake: a month of WIN-like trades (issue 13) — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average at start of report: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: $BUILD ($(grep -m1 CMAKE_BUILD_TYPE "$BUILD/CMakeCache.txt" | cut -d= -f2)), commit $(git -C "$ROOT" rev-parse --short HEAD)"
  echo "input: $TRADES trades, 21 sessions (March 2026, 09:00-18:25 America/Sao_Paulo), $csv_mb MiB CSV, generated in $gen_s s"
  echo "runs: $RUNS per ingest (alternating quant / DuckDB), medians; peak RSS = max resident set (/usr/bin/time)"
  echo
  echo "## (a)/(b) the month: quant ingest vs DuckDB read_csv -> COPY (same CSV, same run)"
  printf "%-62s %8s %10s %10s\n" "" "wall s" "M rows/s" "RSS MiB"
  for k in q512 q64 duck duckp; do
    case $k in
      q512) label="quant ingest (memory_budget_mb 512; + 1-min bars)";;
      q64) label="quant ingest (memory_budget_mb 64; + 1-min bars)";;
      duck) label="DuckDB read_csv -> COPY parquet (one file)";;
      duckp) label="DuckDB read_csv -> COPY parquet PARTITION_BY day";;
    esac
    w=$(wall $k)
    printf "%-62s %8.2f %10s %10.0f\n" "$label" "$w" "$(rate "$TRADES" "$w")" "$(rss_mb $k)"
  done
  echo "ratio quant (512) / DuckDB one file, wall: $(awk -v a="$(wall q512)" -v b="$(wall duck)" 'BEGIN {printf "%.2f", a / b}')"
  printf "highest peak RSS of the 64 MiB-budget runs: %.0f MiB (quant lake ls alone: %.0f MiB)\n" "$(rss_max_mb q64)" "$(rss_mb ls)"
  echo "lake: trades $lake_mb MiB in 21 day partitions (ts, seq, price, volume, aggressor); DuckDB's file: $native_mb MiB (time, price, volume, side)"
  echo
  echo "## (c) one session ($day_rows trades) re-ingested into the full month"
  printf "%-62s %8s %10s\n" "" "wall s" "RSS MiB"
  printf "%-62s %8.2f %10.0f\n" "(reference: the session alone into an empty lake)" "$(wall day_fresh)" "$(rss_mb day_fresh)"
  printf "%-62s %8.2f %10.0f\n" "same rows (all duplicates: nothing written)" "$(wall day_same)" "$(rss_mb day_same)"
  printf "%-62s %8.2f %10.0f\n" "revised, without --replace (conflicts kept: nothing written)" "$(wall day_conflict)" "$(rss_mb day_conflict)"
  printf "%-62s %8.2f %10.0f\n" "revised / original with --replace (the day rewritten)" "$(wall day_replace)" "$(rss_mb day_replace)"
  echo "month ingest / rewrite of one day: $(awk -v a="$(wall q512)" -v b="$(wall day_replace)" 'BEGIN {printf "%.1f", a / b}')x; rewrite of one day / the session into an empty lake: $(awk -v a="$(wall day_replace)" -v b="$(wall day_fresh)" 'BEGIN {printf "%.1f", a / b}')x"
  echo
  echo "## (d) partition statistics (Parquet footers), $n_parts partitions, $n_rows rows"
  printf "%-62s %8s\n" "" "ms"
  printf "%-62s %8.0f\n" "quant lake ls (a process: start, config, DuckDB, footers)" "$(awk -v s="$(wall ls)" 'BEGIN {print s * 1000}')"
  printf "%-62s %8.0f\n" "quant lake ls -p" "$(awk -v s="$(wall lsp)" 'BEGIN {print s * 1000}')"
  printf "%-62s %8.1f\n" "partitions(), first call in a process (every footer)" "$first_ms"
  printf "%-62s %8.3f\n" "partitions(), repeated (footers cached by file identity)" "$repeat_ms"
  echo
  echo "## (e) $TRADES trades in ONE day (far larger than the budget)"
  printf "%-62s %8s %10s %10s\n" "" "wall s" "M rows/s" "RSS MiB"
  for k in big64 big512; do
    w=$(wall $k)
    printf "%-62s %8.2f %10s %10.0f\n" "quant ingest, memory_budget_mb ${k#big}" "$w" "$(rate "$TRADES" "$w")" "$(rss_mb $k)"
  done
  echo "peak RSS minus the budget: $(awk -v a="$(rss_max_mb big64)" 'BEGIN {printf "%.0f", a - 64}') MiB (64), $(awk -v a="$(rss_max_mb big512)" 'BEGIN {printf "%.0f", a - 512}') MiB (512): the fixed part (quant lake ls alone: $(awk -v a="$(rss_mb ls)" 'BEGIN {printf "%.0f", a}') MiB) plus DuckDB's buffers outside its memory_limit"
  if [[ -n ${BASE_QUANT:-} ]]; then
    echo
    echo "## (f) the previous build (monthly partitions: $BASE_QUANT), same CSVs, same run"
    printf "%-62s %8s %10s\n" "" "wall s" "RSS MiB"
    printf "%-62s %8.2f %10.0f\n" "month ingest" "$(wall base_month)" "$(rss_mb base_month)"
    printf "%-62s %8.2f %10.0f\n" "session re-ingest, same rows" "$(wall base_same)" "$(rss_mb base_same)"
    printf "%-62s %8.2f %10.0f\n" "session re-ingest, revised, without --replace" "$(wall base_conflict)" "$(rss_mb base_conflict)"
    printf "%-62s %8.2f %10.0f\n" "session re-ingest, revised, with --replace (month rewritten)" "$(wall base_replace)" "$(rss_mb base_replace)"
    echo "rewrite of one session, previous / day partitions: $(awk -v a="$(wall base_replace)" -v b="$(wall day_replace)" 'BEGIN {printf "%.1f", a / b}')x"
  fi
} | tee "$REPORT"
echo "saved $REPORT" >&2
