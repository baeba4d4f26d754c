#!/usr/bin/env bash
# End-to-end tests of `quant backtest` through the real binary.
source "$(dirname "$0")/lib.sh"
LAKE="$WORK/lake"
q generate -s WIN --days 25 --seed 3 --out "$WORK/win.csv" >/dev/null
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win.csv" >/dev/null

echo "== a full run writes the run directory and its report"
out=$(q backtest --lake "$LAKE" -s WIN --out "$WORK/run1" --generated-data 2>&1); st=$?
expect_status $st 0 "backtest runs"
expect_contains "$out" "report: $WORK/run1/report.html" "prints where the report is"
for f in trades.csv orders.csv equity.csv daily.csv risk_events.csv chart_bars.csv summary.json config.toml report.html; do
  if [[ -s $WORK/run1/$f ]]; then ok "wrote $f"; else bad "missing $f"; fi
done
for k in net_pnl trades win_rate profit_factor expectancy sharpe sortino max_drawdown max_drawdown_pct calmar exposure fees bars bars_per_second; do
  expect_contains "$(cat "$WORK/run1/summary.json")" "\"$k\"" "summary.json has $k"
done
expect_contains "$(head -1 "$WORK/run1/trades.csv")" "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,exit_reason" "trades.csv columns"
expect_eq "$(wc -l < "$WORK/run1/equity.csv")" "$((25 * 565 + 1))" "equity.csv: one row per bar"
expect_eq "$(wc -l < "$WORK/run1/daily.csv")" 26 "daily.csv: one row per session"
expect_contains "$(cat "$WORK/run1/report.html")" "GENERATED DATA" "the report says the data is generated"

echo "== the report of a real run renders in headless Chromium, offline, without console messages"
if [[ -x /usr/bin/chromium ]]; then
  timeout 120 /usr/bin/chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --proxy-server=127.0.0.1:9 --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 \
    --virtual-time-budget=8000 --dump-dom "file://$WORK/run1/report.html" >"$WORK/dom.html" 2>"$WORK/chrome.txt"
  expect_contains "$(grep -o '<body[^>]*>' "$WORK/dom.html" | head -1)" 'data-rendered="ok"' "report.html rendered"
  expect_eq "$(grep -c '<canvas' "$WORK/dom.html")" "$(grep -c '<canvas' "$WORK/dom.html" | awk '$1 > 0')" "charts drew canvases"
  expect_eq "$(grep -c 'CONSOLE' "$WORK/chrome.txt")" 0 "no console messages"
else
  echo "  (chromium not installed: render check skipped; scripts/setup.sh installs it)"
fi

echo "== deterministic: same data + config → byte-identical trades.csv"
q backtest --lake "$LAKE" -s WIN --out "$WORK/run2" --no-report >/dev/null
if cmp -s "$WORK/run1/trades.csv" "$WORK/run2/trades.csv"; then ok "trades.csv identical"; else bad "trades.csv differs"; fi

echo "== a run over parquet_above_bars bars writes its per-bar equity as equity.parquet, the same rows"
sed 's/^parquet_above_bars = .*/parquet_above_bars = 10000/' "$ROOT/config/quant.toml" > "$WORK/parquet.toml"
"$QUANT" --config "$WORK/parquet.toml" backtest --lake "$LAKE" -s WIN --out "$WORK/run1" --no-report >/dev/null 2>&1 \
  && cp -r "$WORK/run1" "$WORK/run_pq" && q backtest --lake "$LAKE" -s WIN --out "$WORK/run1" --no-report >/dev/null
if [[ -f $WORK/run_pq/equity.parquet && ! -e $WORK/run_pq/equity.csv ]]; then ok "equity.parquet instead of equity.csv"; else bad "expected equity.parquet alone: $(ls "$WORK/run_pq")"; fi
pq=$(q lake query --lake "$LAKE" "SELECT count(*), sum(equity), sum(position), max(drawdown_pct) FROM '$WORK/run_pq/equity.parquet'" | tail -1)
csv=$(awk -F, 'NR > 1 {n++; e += $2; p += $5; if ($7 > d) d = $7} END {printf "%d,%.2f,%d,%.6f", n, e, p, d}' "$WORK/run1/equity.csv")
expect_eq "$pq" "$csv" "equity.parquet holds the rows of equity.csv (count, sums, deepest drawdown)"
[[ ! -e $WORK/run1/equity.parquet ]] && ok "a CSV run removes a stale equity.parquet" || bad "equity.parquet left beside equity.csv"

echo "== day trading: every position is flat at the end of each session"
open_at_close=$(awk -F, 'NR > 1 && $5 != 0 && $1 ~ /T21:2[0-9]/' "$WORK/run1/equity.csv" | wc -l)
expect_eq "$open_at_close" 0 "no open position in the last minutes of a session"

echo "== the reference strategy"
out=$(q backtest --lake "$LAKE" -s WIN --strategy sma_cross --out "$WORK/ref" --no-report 2>&1); st=$?
expect_status $st 0 "sma_cross runs"
fees=$(awk -F, 'NR > 1 {s += $8} END {print s + 0}' "$WORK/ref/trades.csv")
expect_eq "$fees" 0 "sma_cross: zero costs"
qty=$(awk -F, 'NR > 1 && $4 != 1' "$WORK/ref/trades.csv" | wc -l)
expect_eq "$qty" 0 "sma_cross: fixed size 1"

echo "== clear errors"
out=$(q backtest --lake "$LAKE" -s XYZ --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "unknown symbol fails"
expect_contains "$out" "unknown symbol 'XYZ'" "unknown symbol is named"
expect_contains "$out" "WIN" "configured symbols are listed"
out=$(q backtest --lake "$LAKE" -s WDO --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "a configured symbol without data fails"
expect_contains "$out" "no 1-minute bars for WDO" "says there is no data and how to ingest"
out=$(q backtest --lake "$LAKE" -s WIN --from 2030-01-01 --to 2030-02-01 --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "an empty range fails"
expect_contains "$out" "no bars for WIN between 2030-01-01 and 2030-02-01 (the lake holds" "empty range names the range and what exists"
sed 's/^slippage_ticks = 1/slipage_ticks = 1/' "$ROOT/config/quant.toml" > "$WORK/typo.toml"
out=$("$QUANT" --config "$WORK/typo.toml" backtest --lake "$LAKE" -s WIN --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "a misspelt config key fails"
expect_contains "$out" "unknown key 'backtest.slipage_ticks'" "the misspelt key is named"
sed 's/^book_imbalance_filter = false/book_imbalance_filter = true/' "$ROOT/config/quant.toml" > "$WORK/book.toml"
out=$("$QUANT" --config "$WORK/book.toml" backtest --lake "$LAKE" -s WIN --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "the book imbalance filter without order-flow data fails"
expect_contains "$out" "book_imbalance_filter" "names the filter"
expect_contains "$out" "quant ingest -f trades -s WIN" "says what to ingest"

echo "== the configuration: found from any directory, or named when missing"
mkdir -p "$WORK/elsewhere"
out=$(cd "$WORK/elsewhere" && "$QUANT" backtest --lake "$WORK/elsewhere/lake" -s WIN --out x 2>&1); st=$?
if [[ $out == *"unknown symbol"* ]]; then bad "run from another directory, WIN is unknown: $out"; else ok "run from another directory, the configuration beside the binary is found"; fi
expect_contains "$out" "does not exist" "it gets as far as the (missing) lake"
out=$("$QUANT" --config "$WORK/missing.toml" backtest -s WIN --out x 2>&1); st=$?
expect_status $st 1 "--config naming a missing file fails"
expect_contains "$out" "$WORK/missing.toml: no such configuration file" "and says so"
mkdir -p "$WORK/bin" && cp "$QUANT" "$WORK/bin/quant"
out=$(cd "$WORK/elsewhere" && "$WORK/bin/quant" backtest -s WIN --out x 2>&1); st=$?
expect_status $st 1 "no configuration anywhere: WIN is unknown"
expect_contains "$out" "no configuration file was found (looked in config/quant.toml, $WORK/bin/config/quant.toml" "says where it looked"
expect_contains "$out" "/etc/quant/quant.toml); pass --config FILE" "and what to do"
finish
