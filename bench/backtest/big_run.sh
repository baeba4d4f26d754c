#!/usr/bin/env bash
# A long run end to end, as a user runs it: 10 M generated one-minute bars of
# BTCUSDT (24/7) in a temporary lake, then `quant backtest --strategy
# sma_cross` with the default configuration and every default output (the
# report included). Prints wall time and peak RSS per run (median of RUNS),
# the output sizes, and the lake-read speed: the first run builds the bar
# caches (reported apart), the later runs read them.
#   bench/backtest/big_run.sh [QUANT=build/bench/apps/quant/quant] [BARS=10000000] [RUNS=5]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
QUANT=$(readlink -f "${1:-$ROOT/build/bench/apps/quant/quant}")
BARS=${2:-10000000}
RUNS=${3:-5}
BB="$(dirname "$(dirname "$(dirname "$QUANT")")")/bench/backtest_bench"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RESULTS="$ROOT/bench/results"; mkdir -p "$RESULTS"
OUT="$RESULTS/backtest_big_$(date -u +%Y%m%d).txt"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

{
echo "# quant backtest, $BARS bars, sma_cross, default configuration and outputs; $(nproc) cores, $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
"$BB" --bars "$BARS" --make-lake "$WORK/lake" >/dev/null
run() {
  rm -rf "$WORK/run"
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$QUANT" --config "$ROOT/config/quant.toml" --lake "$WORK/lake" -q \
    backtest -s BTCUSDT --strategy sma_cross --out "$WORK/run" > "$WORK/out"
  read -r wall rss < "$WORK/time"
  loop=$(grep -o 'in [0-9.]* s ([0-9]* bars/s)' "$WORK/out" | head -1)
  echo "$wall $rss $loop"
}
first=$(run)
echo "first run (builds the bar caches): wall ${first%% *} s, peak RSS $(awk '{printf "%.0f", $2/1024}' <<<"$first") MB, loop: ${first#* * }"
: > "$WORK/walls"; : > "$WORK/rss"; : > "$WORK/rates"
for ((i = 0; i < RUNS; i++)); do
  r=$(run)
  echo "run $((i + 1)): wall ${r%% *} s, peak RSS $(awk '{printf "%.0f", $2/1024}' <<<"$r") MB, loop: ${r#* * }"
  awk '{print $1}' <<<"$r" >> "$WORK/walls"
  awk '{print $2/1024}' <<<"$r" >> "$WORK/rss"
  grep -o '([0-9]* bars/s)' <<<"$r" | tr -dc '0-9\n' >> "$WORK/rates"; echo >> "$WORK/rates"
done
sed -i '/^$/d' "$WORK/rates"
echo "median of $RUNS: wall $(median < "$WORK/walls") s, peak RSS $(median < "$WORK/rss") MB, loop $(median < "$WORK/rates") bars/s"
echo "outputs:"; ( cd "$WORK/run" && ls -l | awk 'NR > 1 {printf "  %-20s %12d bytes\n", $9, $5}' )

# The lake → engine feed alone: bars/s of draining LakeFeed from the caches (one consumer thread).
"$BB" --lake "$WORK/lake" --symbol BTCUSDT --feed drain 2>/dev/null || true
# The same pinned to one core (taskset): reader thread and consumer share it.
command -v taskset >/dev/null && taskset -c 0 "$BB" --lake "$WORK/lake" --symbol BTCUSDT --feed drain 2>/dev/null | sed 's/^/one core: /' || true
} | tee "$OUT"
echo "saved: $OUT"
