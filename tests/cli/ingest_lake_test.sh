#!/usr/bin/env bash
# End-to-end tests of `quant ingest` and `quant lake` through the real binary.
source "$(dirname "$0")/lib.sh"
LAKE="$WORK/lake"

echo "== bad input: one clear line each, non-zero exit, nothing written"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN "$WORK/missing.csv" 2>&1); st=$?
expect_status $st 1 "missing file fails"
expect_contains "$out" "missing.csv" "missing file is named"
expect_eq "$(printf '%s\n' "$out" | wc -l)" 1 "missing file: one line"
: > "$WORK/empty.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN "$WORK/empty.csv" 2>&1); st=$?
expect_status $st 1 "empty file fails"
expect_contains "$out" "empty.csv" "empty file is named"
out=$(q ingest --lake "$LAKE" -f mt6-bars -s WIN "$WORK/empty.csv" 2>&1); st=$?
expect_status $st 1 "unknown format fails"
expect_contains "$out" "mt6-bars" "unknown format is named"
printf 'x\n' > "$WORK/one.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN --tz Mars/Base "$WORK/one.csv" 2>&1); st=$?
expect_status $st 1 "bad --tz fails"
expect_contains "$out" "Mars/Base" "bad zone is named"
expect_eq "$(parquet_count "$LAKE")" 0 "nothing written after bad input"

echo "== generated MT5 export (UTF-16LE, CRLF, tab-separated) → lake"
q generate -s WIN --days 30 --seed 7 --out "$WORK/win_gen.csv" >/dev/null
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win_gen.csv" 2>&1); st=$?
expect_status $st 0 "ingest of generated export"
expect_contains "$out" "16950 added" "30 sessions × 565 minutes added"
count=$(q lake query --lake "$LAKE" "select count(*) as n from bars_1m where symbol = 'WIN'")
expect_eq "$count" $'n\n16950' "query counts the bars"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win_gen.csv" 2>&1)
expect_contains "$out" "0 added, 16950 already present" "re-ingest adds nothing"
out=$(q lake verify --lake "$LAKE" -s WIN 2>&1); st=$?
expect_status $st 0 "verify of generated data is clean"
out=$(q lake ls --lake "$LAKE")
expect_contains "$out" "bars_1m" "ls lists the dataset"
expect_contains "$out" "16950" "ls shows the row count"
h=$(q lake bars --lake "$LAKE" -s WIN -t 1h --from 2024-01-02 --to 2024-01-03 | sed -n 2p)
expect_contains "$h" "2024-01-02T12:00:00Z" "hour bars start at 09:00 local (12:00 UTC)"

echo "== bad rows: rejected with file:line: field: reason, good rows kept"
{ printf 'Date,Time,Open,High,Low,Close,Tick,Volume,Spread\r\n'
  printf '2025.02.03,09:00:00,100000,100010,99990,100005,10,20,1\r\n'
  printf '2025.02.03,09:01:00,100005,99990,100000,100000,10,20,1\r\n'
  printf '2025.02.03,09:02:00,100000,100010,99990,abc,10,20,1\r\n'
  printf '2025.02.03,09:03:00,100000,100010,99990,100005,10,20,1\r\n'; } > "$WORK/bad.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN "$WORK/bad.csv" 2>&1); st=$?
expect_status $st 0 "non-strict ingest keeps good rows"
expect_contains "$out" "2 added" "two good rows added"
expect_contains "$out" "2 rejected" "two bad rows counted"
expect_contains "$out" "bad.csv:3: " "first bad row reported with file:line"
rej=$(cat "$LAKE"/_rejects/bad.csv.*.rejects.tsv 2>/dev/null | wc -l)
expect_eq "$rej" 3 "reject file holds a header and the two bad rows"
sed 's/2025.02.03/2025.02.04/' "$WORK/bad.csv" > "$WORK/bad2.csv"
before=$(parquet_count "$LAKE")
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN --strict "$WORK/bad2.csv" 2>&1); st=$?
expect_status $st 1 "--strict fails on a bad row"
expect_contains "$out" "bad2.csv:3: " "--strict names file:line"
n=$(q lake query --lake "$LAKE" "select count(*) as n from bars_1m where ts >= '2025-02-04'")
expect_eq "$n" $'n\n0' "--strict wrote nothing"

if ! have_data; then
  finish; exit $?
fi

echo "== real data: WIN MT5 export, EURUSD HistData, WIN trades"
RL="$WORK/real"
out=$(q ingest --lake "$RL" -f mt5-bars -s WIN -q "$DATA/b3/WIN_N_M1_2020-11_2021-03.csv.gz" 2>&1); st=$?
expect_status $st 0 "WIN bars ingest"
expect_contains "$out" "54003 added" "WIN: 54,003 bars"
first=$(q lake query --lake "$RL" "select ts, open, high, low, close, tick_volume, volume, spread from bars_1m order by ts limit 1" | tail -1)
expect_eq "$first" "2020-11-06 13:28:00,100120.0,100150.0,100080.0,100105.0,4222,12909.0,5" "WIN first bar, 10:28 BRT = 13:28 UTC"
out=$(q ingest --lake "$RL" -f histdata -s EURUSD -q "$DATA"/fx/DAT_ASCII_EURUSD_M1_2017*.csv.gz 2>&1); st=$?
expect_status $st 0 "EURUSD ingest"
expect_contains "$out" "186348 added" "EURUSD: 186,348 bars"
n=$(q lake query --lake "$RL" "select count(distinct month) as months from bars_1m where symbol='EURUSD'")
expect_eq "$n" $'months\n6' "EURUSD spans six monthly partitions"
out=$(q ingest --lake "$RL" -f trades -s WIN -q "$DATA/b3/WIN_trades_2021-06-15.csv.gz" 2>&1); st=$?
expect_status $st 0 "WIN trades ingest"
expect_contains "$out" "12399 added" "WIN trades: 12,399"
n=$(q lake query --lake "$RL" "select count(*) as n from bars_1m where symbol='WIN' and ts >= '2021-06-15'")
expect_eq "$n" $'n\n110' "trades aggregate into 1-minute bars (15:41..17:30 BRT)"
out=$(q lake verify --lake "$RL" -s WIN 2>&1); st=$?
expect_status $st 0 "verify: the real WIN series has no errors"
expect_contains "$out" "54113 bars" "verify counts WIN bars (54,003 imported + 110 aggregated from trades)"
out=$(q lake verify --lake "$RL" -s EURUSD 2>&1); st=$?
expect_status $st 0 "verify: EURUSD gaps are warnings, not errors"
expect_contains "$out" "gap                    281 warnings (largest 4 min" "verify finds HistData's 281 missing minutes"

echo "== a missing lake says what to run; --time-format takes the spellings --help shows"
out=$(q lake ls --lake "$WORK/no-such-lake" 2>&1); st=$?
expect_status $st 1 "lake ls on a missing lake fails"
expect_contains "$out" "$WORK/no-such-lake does not exist" "names the directory"
expect_contains "$out" "quant ingest --lake $WORK/no-such-lake" "says what to run instead"
if [[ $out == *"create option"* ]]; then bad "mentions an option no command has"; else ok "no made-up option"; fi
printf 'ts,open,high,low,close,volume\n1704103200000,10,11,9,10.5,5\n1704103260000,10.5,11,10,10.8,7\n' > "$WORK/ms.csv"
out=$(q ingest --lake "$WORK/mslake" -f csv -s MSTEST --time-format epoch-ms "$WORK/ms.csv" 2>&1); st=$?
expect_status $st 0 "--time-format epoch-ms (as --help shows it) parses"
expect_contains "$out" "2 added" "both rows imported"
out=$(q lake verify --lake "$WORK/no-such-lake" -s WIN 2>&1); st=$?
expect_status $st 2 "lake verify that cannot run exits 2 (1 is for data errors)"
finish
