#!/usr/bin/env bash
# `quant ingest` merging into a lake that already holds data (--replace, the
# still-forming last bar of an MT5 export), the timeframe check, generated data
# carried from `quant generate` to the backtest, and the --json outputs.
source "$(dirname "$0")/lib.sh"
LAKE="$WORK/lake"
HEADER='Date,Time,Open,High,Low,Close,Tick,Volume,Spread'
# mt5_bars FILE STEP_MINUTES DAYS [FIRST_DAY]: an MT5 bar export (comma variant),
# one bar every STEP minutes from 09:00 to 18:20 on DAYS consecutive days of March 2025.
mt5_bars() {
  awk -v step="$2" -v days="$3" -v first="${4:-3}" -v header="$HEADER" 'BEGIN {
    printf "%s\r\n", header
    for (d = first; d < first + days; d++)
      for (m = 9 * 60; m < 18 * 60 + 25; m += step)
        printf "2025.03.%02d,%02d:%02d:00,100000,100010,99990,100005,10,20,1\r\n", d, m / 60, m % 60
  }' > "$1"
}
json() {  # FILE PYTHON-EXPRESSION over `j`: prints the value (the file must be one JSON object)
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

echo "== --replace: the imported rows win on conflicts, and the summary lists them"
{ printf '%s\r\n' "$HEADER"
  printf '2025.02.03,09:00:00,100000,100010,99990,100005,10,20,1\r\n'
  printf '2025.02.03,09:01:00,100005,100015,99995,100010,10,20,1\r\n'
  printf '2025.02.03,09:02:00,100010,100020,100000,100015,10,20,1\r\n'
  printf '2025.02.03,09:03:00,100015,100025,100005,100020,10,20,1\r\n'; } > "$WORK/a.csv"
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/a.csv" >/dev/null
sed 's/^2025.02.03,09:01:00,100005,100015/2025.02.03,09:01:00,100005,100050/' "$WORK/a.csv" > "$WORK/b.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/b.csv" 2>&1); st=$?
expect_status $st 0 "a conflicting import without --replace succeeds"
expect_contains "$out" "1 conflicting (kept the lake's)" "the conflict is counted as before"
expect_contains "$out" "conflicting rows kept the lake's values, 2025-02-03T12:01:00Z .. 2025-02-03T12:01:00Z: 2025-02-03T12:01:00Z (quant ingest --replace takes the imported rows)" "the conflict is named, with what to run"
high=$(q lake query --lake "$LAKE" "select high from bars_1m where ts = '2025-02-03 12:01:00'" | tail -1)
expect_eq "$high" "100015.0" "without --replace the lake keeps its row"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q --replace "$WORK/b.csv" 2>&1); st=$?
expect_status $st 0 "--replace succeeds"
expect_contains "$out" "1 conflicting (1 replaced by the imported rows)" "--replace counts the replaced row"
expect_contains "$out" "replaced 1 row(s) with the imported ones, 2025-02-03T12:01:00Z .. 2025-02-03T12:01:00Z: 2025-02-03T12:01:00Z" "--replace lists the time range and the first timestamps"
high=$(q lake query --lake "$LAKE" "select high from bars_1m where ts = '2025-02-03 12:01:00'" | tail -1)
expect_eq "$high" "100050.0" "with --replace the imported row wins"
expect_contains "$("$QUANT" ingest --help)" "--replace" "--help documents --replace"

echo "== the still-forming last bar of an MT5 export is completed by the next export"
{ printf '%s\r\n' "$HEADER"
  for m in 0 1 2 3; do printf '2025.02.04,10:0%d:00,100000,100010,99990,100005,10,20,1\r\n' "$m"; done
  printf '2025.02.04,10:04:00,100000,100005,100000,100005,3,4,1\r\n'; } > "$WORK/export1.csv"   # 10:04 still forming
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/export1.csv" 2>&1)
expect_contains "$out" "the last bar, 2025-02-04T13:04:00Z, may still be forming" "the summary says the last bar is provisional"
{ printf '%s\r\n' "$HEADER"
  printf '2025.02.04,10:03:00,100000,100010,99990,100005,10,20,1\r\n'
  printf '2025.02.04,10:04:00,100000,100035,99980,100030,25,60,1\r\n'                           # now complete
  for m in 5 6 7; do printf '2025.02.04,10:0%d:00,100000,100010,99990,100005,10,20,1\r\n' "$m"; done; } > "$WORK/export2.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/export2.csv" 2>&1); st=$?
expect_status $st 0 "the next export imports"
expect_contains "$out" "completed the still-forming bar at 2025-02-04T13:04:00Z" "the summary names the completed bar"
expect_contains "$out" "3 added, 1 already present, 0 conflicting" "completing is not a conflict"
expect_contains "$out" "the last bar, 2025-02-04T13:07:00Z, may still be forming" "the new last bar is provisional"
row=$(q lake query --lake "$LAKE" "select high, low, close, tick_volume from bars_1m where ts = '2025-02-04 13:04:00'" | tail -1)
expect_eq "$row" "100035.0,99980.0,100030.0,25" "the lake holds the complete bar"
sed 's/10:03:00,100000,100010/10:03:00,100000,100015/' "$WORK/export2.csv" > "$WORK/export3.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/export3.csv" 2>&1)
expect_contains "$out" "1 conflicting (kept the lake's)" "a settled bar still conflicts"

echo "== bar files of another timeframe are refused; sparse 1-minute files import"
mt5_bars "$WORK/m5.csv" 5 10
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN5 "$WORK/m5.csv" 2>&1); st=$?
expect_status $st 1 "an M5 export is refused"
expect_contains "$out" "$WORK/m5.csv holds 5-minute (M5) bars: 1,120 of 1,120 consecutive bars of the same day are 5 minutes apart and 1,130 of 1,130 bars lie on the 5-minute grid" "the refusal says what the file holds"
expect_contains "$out" "the lake stores 1-minute bars: export M1 from MetaTrader 5 and import that (nothing of this file was written)" "the refusal says what to do"
n=$(q lake query --lake "$LAKE" "select count(*) as n from bars_1m where symbol = 'WIN5'" | tail -1)
expect_eq "$n" 0 "nothing of the M5 file was written"
mt5_bars "$WORK/h1.csv" 60 20
out=$(q ingest --lake "$LAKE" -f mt5-bars -s WIN5 "$WORK/h1.csv" 2>&1); st=$?
expect_status $st 1 "an H1 export is refused"
expect_contains "$out" "holds 1-hour (H1) bars" "H1 is named"
# Illiquid 1-minute bars: 1 to 4 minutes apart, never a coarser grid.
awk -v header="$HEADER" 'BEGIN { printf "%s\r\n", header; srand(5)
  for (d = 3; d < 13; d++) for (m = 9 * 60; m < 18 * 60; m += 1 + int(rand() * 4))
    printf "2025.03.%02d,%02d:%02d:00,100000,100010,99990,100005,10,20,1\r\n", d, m / 60, m % 60 }' > "$WORK/sparse.csv"
out=$(q ingest --lake "$LAKE" -f mt5-bars -s SPARSE -q "$WORK/sparse.csv" 2>&1); st=$?
expect_status $st 0 "sparse 1-minute bars import"
# A file with too few bars to tell imports too (the 4-bar a.csv above did); a
# multi-file run refuses only the file of another timeframe.
mt5_bars "$WORK/m1.csv" 1 2 20
out=$(q ingest --lake "$LAKE" -f mt5-bars -s MIX -q --json "$WORK/m1.csv" "$WORK/m5.csv" 2>"$WORK/mix.err"); st=$?
expect_status $st 1 "a run with one refused file exits 1"
printf '%s\n' "$out" > "$WORK/mix.json"
expect_eq "$(json "$WORK/mix.json" 'j["files"][0]["status"], j["files"][1]["status"], j["files"][1]["timeframe"]["detected"]')" "('imported', 'refused', 'M5')" "--json: the M1 file imported, the M5 file refused"
expect_eq "$(json "$WORK/mix.json" 'j["datasets"][0]["added"]')" 1130 "only the M1 file's bars were written"
# A lake written by another tool with 5-minute bars fails verify.
OTHER="$LAKE/kind=bars_1m/symbol=OTHER/year=2025/month=03"
mkdir -p "$OTHER"
q lake query --lake "$LAKE" "COPY (SELECT ('2025-03-03 12:00:00'::TIMESTAMP_NS + to_minutes(5 * (i % 100)) + to_days(i // 100))::TIMESTAMP_NS AS ts, 100000.0 AS open, 100010.0 AS high, 99990.0 AS low, 100005.0 AS close, 1::BIGINT AS tick_volume, 0.0 AS volume, 0 AS spread FROM range(1000) t(i)) TO '$OTHER/data.parquet' (FORMAT parquet)" >/dev/null
out=$(q lake verify --lake "$LAKE" -s OTHER 2>&1); st=$?
expect_status $st 1 "verify of 5-minute bars in bars_1m fails"
expect_contains "$out" "timeframe              1 error" "the timeframe check names the error"
expect_contains "$out" "the series holds 5-minute (M5) bars, not 1-minute bars" "and says what the bars are"
q lake verify --lake "$LAKE" -s OTHER --json > "$WORK/verify.json" 2>/dev/null; st=$?
expect_status $st 1 "verify --json keeps exit 1 for data errors"
expect_eq "$(json "$WORK/verify.json" 'j["status"], j["timeframe"]["detected"], [c["count"] for c in j["checks"] if c["check"] == "timeframe"][0]')" "('failed', 'M5', 1)" "verify --json: status, timeframe, the check's count"

echo "== generated data: quant generate → ingest → lake ls → backtest"
GL="$WORK/generated"
q generate -s WIN --days 25 --seed 3 --out "$WORK/gen.csv" >/dev/null
[[ -f $WORK/gen.csv.generated.json ]] && ok "generate writes FILE.generated.json" || bad "no FILE.generated.json"
expect_eq "$(json "$WORK/gen.csv.generated.json" 'j["generated"], j["generator"], j["seed"]')" "(True, 'quant generate', 3)" "the sidecar names generator and seed"
out=$(q ingest --lake "$GL" -f mt5-bars -s WIN -q "$WORK/gen.csv" 2>&1); st=$?
expect_status $st 0 "generated export imports"
expect_contains "$out" "marked as generated data: quant generate WIN seed=3 days=25 start=2024-01-02 (gen.csv)" "the summary says the rows are generated"
expect_contains "$(q lake ls --lake "$GL")" "generated" "lake ls has a generated column"
q lake ls --lake "$GL" --json > "$WORK/ls.json"
expect_eq "$(json "$WORK/ls.json" 'j["groups"][0]["generated"], j["groups"][0]["generated_spans"][0]["label"]')" "('yes', 'quant generate WIN seed=3 days=25 start=2024-01-02 (gen.csv)')" "lake ls --json: generated, with its label"
out=$(q backtest --lake "$GL" -s WIN --out "$WORK/run" 2>&1); st=$?
expect_status $st 0 "backtest on generated data (no --generated-data flag)"
expect_eq "$(json "$WORK/run/summary.json" 'j["meta"]["generated_data"]')" "True" "summary.json meta says generated_data"
expect_contains "$(cat "$WORK/run/report.html")" "GENERATED DATA" "the report says the data is generated"
# A real export merged into the generated month keeps the mark.
mt5_bars "$WORK/real.csv" 1 1 30
mt5_bars "$WORK/real2.csv" 1 1 31
q ingest --lake "$GL" -f mt5-bars -s WIN -q "$WORK/real.csv" >/dev/null
expect_eq "$(q lake ls --lake "$GL" --json > "$WORK/ls2.json"; json "$WORK/ls2.json" 'j["groups"][0]["generated"]')" "partly" "a real month beside generated ones: partly"
# Mixing generated and real files in one run is refused; --generated marks a plain file.
out=$(q ingest --lake "$GL" -f mt5-bars -s WIN "$WORK/gen.csv" "$WORK/real2.csv" 2>&1); st=$?
expect_status $st 1 "generated and real files in one run are refused"
expect_contains "$out" "import them in separate runs, or pass --generated" "the refusal says what to do"
out=$(q ingest --lake "$WORK/flag" -f mt5-bars -s WIN -q --generated "$WORK/real2.csv" 2>&1)
expect_contains "$out" "marked as generated data: marked generated by quant ingest --generated" "--generated marks a plain file"
cp "$WORK/gen.csv" "$WORK/gen2.csv"; cp "$WORK/gen.csv.generated.json" "$WORK/gen2.csv.generated.json"
printf 'x' >> "$WORK/gen2.csv"
out=$(q ingest --lake "$WORK/flag" -f mt5-bars -s WIN "$WORK/gen2.csv" 2>&1); st=$?
expect_status $st 1 "a sidecar for another file's size is refused"
expect_contains "$out" "delete the sidecar" "and says what to do"

echo "== --json: ingest summary, lake ls, lake verify"
q ingest --lake "$WORK/j" -f mt5-bars -s WIN -q --json "$WORK/export1.csv" > "$WORK/ingest.json"; st=$?
expect_status $st 0 "ingest --json"
expect_eq "$(json "$WORK/ingest.json" 'j["status"], j["datasets"][0]["added"], j["datasets"][0]["provisional"], j["files"][0]["rows"]')" "('ok', 5, '2025-02-04T13:04:00Z', 5)" "ingest --json: status, counts, the provisional bar, the file"
q ingest --lake "$WORK/j" -f mt5-bars -s WIN -q --json "$WORK/export2.csv" > "$WORK/ingest2.json"
expect_eq "$(json "$WORK/ingest2.json" 'j["datasets"][0]["completed"], j["datasets"][0]["completed_bars"], j["datasets"][0]["conflicts"]')" "(1, ['2025-02-04T13:04:00Z'], 0)" "ingest --json: the completed bar"
q lake verify --lake "$WORK/j" -s WIN --json > "$WORK/v.json"; st=$?
expect_status $st 0 "verify --json passes"
expect_eq "$(json "$WORK/v.json" 'j["status"], j["bars"], j["generated"]')" "('passed', 8, [])" "verify --json: status, bars, generated"
q lake verify --lake "$WORK/no-such-lake" -s WIN --json > "$WORK/v2.json" 2>/dev/null; st=$?
expect_status $st 2 "verify --json that cannot run exits 2"
expect_eq "$(json "$WORK/v2.json" 'j["status"]')" "error" "and prints an error object"
q lake ls --lake "$WORK/j" --json -p > "$WORK/p.json"
expect_eq "$(json "$WORK/p.json" 'j["partitions"][0]["rows"], j["partitions"][0]["provisional"]')" "(8, ['2025-02-04T13:07:00Z'])" "lake ls --json -p: a partition with its provisional bar"
err=$(q lake verify --lake "$WORK/j" -s WIN 2>&1 >/dev/null)
if [[ $err == *"rows/s"* ]]; then bad "verify printed progress to a non-terminal stderr"; else ok "no progress when stderr is not a terminal"; fi

if have_data; then
  echo "== real data: a daily file is not 1-minute bars"
  out=$(q ingest --lake "$WORK/daily" -f csv -s IDX "$DATA/backtrader/2006-day-001.txt" 2>&1); st=$?
  expect_status $st 1 "backtrader's daily bars are refused"
  expect_contains "$out" "holds daily (D1) bars" "and named as daily"
  expect_contains "$out" "import a 1-minute export of the same market (nothing of this file was written)" "with what to do"
  out=$(q ingest --lake "$WORK/daily" -f csv -s IDX -q "$DATA/backtrader/2006-01-02-volume-min-001.txt.gz" 2>&1); st=$?
  expect_status $st 0 "backtrader's minute bars import"
fi
echo "== trades by day: a day's re-ingest rewrites that day only; ls -p --json names the days"
TL="$WORK/tradelake"
awk 'BEGIN { print "time,price,volume,side"
  for (d = 2; d <= 4; d++) for (i = 0; i < 300; i++)
    printf "2026-03-%02d %02d:%02d:%02d.%03d,%d,%d,%s\n", d, 10 + int(i / 60), i % 60, i % 60, i, 130000 + 5 * (i % 9), 1 + i % 50, (i % 2 ? "buy" : "sell") }' > "$WORK/t.csv"
q ingest --lake "$TL" -f trades -s WIN --tz America/Sao_Paulo -q "$WORK/t.csv" >/dev/null
q lake ls --lake "$TL" -d trades -p --json > "$WORK/tls.json"
expect_eq "$(json "$WORK/tls.json" "[p['day'] for p in j['partitions']]")" "[2, 3, 4]" "one partition per UTC day"
expect_eq "$(json "$WORK/tls.json" "sum(p['rows'] for p in j['partitions'])")" "900" "rows from the footers"
expect_eq "$(q lake query --lake "$TL" "select day, count(*) as n from trades group by day order by day" | tr '\n' ' ')" \
  "day,n 2,300 3,300 4,300 " "the trades view has a day column"
before2=$(stat -c %i "$TL/kind=trades/symbol=WIN/year=2026/month=03/day=02/data.parquet")
before4=$(stat -c %i "$TL/kind=trades/symbol=WIN/year=2026/month=03/day=04/data.parquet")
awk -F, 'NR == 1 || $1 ~ /^2026-03-03/ { if (NR > 1 && NR % 3 == 0) $2 += 5; print }' OFS=, "$WORK/t.csv" > "$WORK/t3.csv"
out=$(q ingest --lake "$TL" -f trades -s WIN --tz America/Sao_Paulo --no-bars --replace --json "$WORK/t3.csv" 2>/dev/null)
echo "$out" > "$WORK/t3.json"
expect_eq "$(json "$WORK/t3.json" "j['datasets'][0]['partitions_written']")" "1" "--replace of one day rewrites one partition"
expect_eq "$(json "$WORK/t3.json" "j['datasets'][0]['replaced']")" "100" "its conflicts are replaced"
expect_eq "$(stat -c %i "$TL/kind=trades/symbol=WIN/year=2026/month=03/day=02/data.parquet")" "$before2" "the day before is untouched"
expect_eq "$(stat -c %i "$TL/kind=trades/symbol=WIN/year=2026/month=03/day=04/data.parquet")" "$before4" "the day after is untouched"

finish
