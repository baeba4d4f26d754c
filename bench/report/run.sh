#!/usr/bin/env bash
# The HTML report of a long run: its size, the time and memory to write it, and
# how long headless Chromium takes to open and draw it (issue 8/10: at most
# 10 MB, drawn in under 3 s, memory bounded whatever the run's length).
#
# report_fixture --large writes a generated run directory (60,000 hourly chart
# bars, 400,000 trades, 800,000 orders, 100,000 risk events, no equity.csv;
# src/report/test_fixture.h); then RUNS times each, medians printed:
#   write     report_fixture --report-only: the report writer alone (wall time, peak RSS);
#   render    chromium --headless=new --screenshot of report.html in a 1400×3000 window:
#             the process ends once the page has loaded, run its script and painted;
#   baseline  the same on the small fixture report: the browser's own start-up,
#             so render − baseline is the page itself.
# The page is checked once with --dump-dom (data-rendered="ok").
# Timing only: nothing here decides whether a test passes (tests/report/render_test.sh does).
# Prints the report and saves it to bench/results/report_<date>.txt.
# Builds nothing: cmake --build BUILD_DIR --target report_fixture
# Usage: bench/report/run.sh [BUILD_DIR=build/ci] [RUNS=5]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/ci}")
RUNS=${2:-5}
FIXTURE="$BUILD/src/report/report_fixture"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
RESULTS="$ROOT/bench/results"
REPORT="$RESULTS/report_$(date -u +%Y%m%d).txt"
die() { echo "bench/report: $*" >&2; exit 1; }
[[ -x $FIXTURE ]] || die "$FIXTURE is missing: cmake --build $BUILD --target report_fixture"
[[ -x $CHROMIUM ]] || die "$CHROMIUM is missing (scripts/setup.sh installs it)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/quant-report-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
chromium() {
  "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$WORK/profile" --window-size=1400,3000 "$@" 2>/dev/null
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
"$FIXTURE" "$WORK/small" >/dev/null
t0=$(now_ns)
"$FIXTURE" --large "$WORK/large" >/dev/null
fixture_ms=$(( ($(now_ns) - t0) / 1000000 ))
inputs=$(du -sm "$WORK/large" | cut -f1)
rows() { echo $(( $(wc -l <"$WORK/large/$1") - 1 )); }

: >"$WORK/write.ms"; : >"$WORK/write.kb"; : >"$WORK/render.ms"; : >"$WORK/base.ms"
for ((i = 0; i < RUNS; i++)); do
  /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$FIXTURE" --report-only "$WORK/large" >/dev/null
  read -r seconds kb <"$WORK/time.txt"
  awk -v s="$seconds" 'BEGIN { printf "%d\n", s * 1000 }' >>"$WORK/write.ms"
  echo "$kb" >>"$WORK/write.kb"
  # Alternate the small and the large page so both see the same machine state.
  t0=$(now_ns); chromium --screenshot="$WORK/small.png" "file://$WORK/small/report.html" >/dev/null
  echo $(( ($(now_ns) - t0) / 1000000 )) >>"$WORK/base.ms"
  t0=$(now_ns); chromium --screenshot="$WORK/large.png" "file://$WORK/large/report.html" >/dev/null
  echo $(( ($(now_ns) - t0) / 1000000 )) >>"$WORK/render.ms"
done
body=$(chromium --virtual-time-budget=5000 --dump-dom "file://$WORK/large/report.html" | grep -o '<body[^>]*>' | head -1)

bytes=$(stat -c %s "$WORK/large/report.html")
write_ms=$(median <"$WORK/write.ms"); write_kb=$(median <"$WORK/write.kb")
render_ms=$(median <"$WORK/render.ms"); base_ms=$(median <"$WORK/base.ms")
{
  echo "# quant report on a long run, $(date -u +%FT%TZ), $(nproc) cores, load $LOAD0, $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# $("$CHROMIUM" --version 2>/dev/null | head -1)"
  echo
  echo "run directory (report_fixture --large, written in $fixture_ms ms): ${inputs} MB"
  echo "  chart_bars.csv $(rows chart_bars.csv) rows, trades.csv $(rows trades.csv), orders.csv $(rows orders.csv), risk_events.csv $(rows risk_events.csv), daily.csv $(rows daily.csv), no equity.csv"
  awk -v b="$bytes" 'BEGIN { printf "report.html: %d bytes (%.2f MB; goal at most 10 MB: %s)\n", b, b / 1e6, b <= 10e6 ? "met" : "NOT met" }'
  echo "page: $body"
  echo "write  (report writer alone): median $write_ms ms, peak RSS $((write_kb / 1024)) MB  [runs: $(paste -sd' ' "$WORK/write.ms") ms]"
  echo "render (chromium --headless --screenshot 1400x3000, wall): median $render_ms ms  [runs: $(paste -sd' ' "$WORK/render.ms") ms]"
  echo "baseline (same, small fixture report: browser start-up): median $base_ms ms  [runs: $(paste -sd' ' "$WORK/base.ms") ms]"
  awk -v r="$render_ms" -v b="$base_ms" -v n="$RUNS" 'BEGIN {
    printf "page alone (render - baseline): %d ms; goal render under 3 s: %s (median of %d)\n", r - b, r < 3000 ? "met" : "NOT met", n }'
} | tee "$REPORT"
echo "saved to $REPORT" >&2
