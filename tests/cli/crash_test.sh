#!/usr/bin/env bash
# Crash safety: kill -9 `quant ingest` at several moments and check that every
# visible partition is readable and complete (equal to the same partition of a
# reference lake), that no temporary file is visible to readers, and that
# re-running the ingest finishes the job exactly.
source "$(dirname "$0")/lib.sh"

# Three years of generated 1-minute WIN bars: 36 monthly partitions.
q generate -s WIN --days 780 --seed 11 --start 2021-01-04 --encoding utf-8 --out "$WORK/big.csv" >/dev/null
REF="$WORK/ref"
q ingest --lake "$REF" -f mt5-bars -s WIN -q "$WORK/big.csv" >/dev/null || { bad "reference ingest"; finish; exit 1; }
q lake ls --lake "$REF" -p > "$WORK/ref.ls"
total=$(q lake query --lake "$REF" "select count(*) as n from bars_1m" | tail -1)
start=$(date +%s%N)
q ingest --lake "$WORK/timing" -f mt5-bars -s WIN -q "$WORK/big.csv" >/dev/null
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "reference: $total bars, one ingest takes ${run_ms} ms"

partition_rows() {  # lake → "year-month rows" lines
  # Killed before it created the lake: nothing visible, a valid outcome.
  [[ -d $1 ]] || return 0
  q lake query --lake "$1" "select year || '-' || month as m, count(*) as n from bars_1m group by all order by all" | tail -n +2
}
partition_rows "$REF" > "$WORK/ref.rows"

LAKE="$WORK/crash"
mid_write=0
kill_at() {  # percent of a run: kill -9 then, and check every visible partition is whole
  local frac=$1 delay_ms pid partials incomplete
  delay_ms=$(( run_ms * frac / 100 ))
  touch "$WORK/run.start"  # temporaries newer than this are this run's
  # The binary itself, not a shell function around it: kill must hit quant.
  "$QUANT" --config "$ROOT/config/quant.toml" ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/big.csv" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  # Every visible partition must be complete: its row count equals the reference's.
  partials=$(find "$LAKE" -name "*.partial" -newer "$WORK/run.start" 2>/dev/null | wc -l)
  if [[ $partials -gt 0 ]]; then
    mid_write=$((mid_write + 1))
    echo "  (killed mid-write at ~${frac}%: $partials temporary file(s) left behind)"
  fi
  if ! partition_rows "$LAKE" > "$WORK/crash.rows" 2>"$WORK/crash.err"; then
    bad "after kill at ${frac}%: lake unreadable: $(head -1 "$WORK/crash.err")"; return
  fi
  incomplete=$(join -t, <(sort "$WORK/crash.rows") <(sort "$WORK/ref.rows") -a1 | awk -F, 'NF != 3 || $2 != $3' | wc -l)
  expect_eq "$incomplete" 0 "after kill at ~${frac}% ($(wc -l < "$WORK/crash.rows") partitions visible): none partial"
  if [[ $incomplete != 0 ]]; then
    echo "  partitions that differ (month,visible rows,reference rows):"
    join -t, <(sort "$WORK/crash.rows") <(sort "$WORK/ref.rows") -a1 | awk -F, 'NF != 3 || $2 != $3' | head -5
  fi
}
for frac in 10 25 40 55 70 85; do kill_at "$frac"; done
# A kill that never lands inside a write proves nothing: keep killing at other
# moments (the write phase is the run's later part) until one does.
for frac in 92 60 78 95 65 88 72 97 50 82 68 90 58 75 99 62 86 94 70 80; do
  (( mid_write > 0 )) && break
  kill_at "$frac"
done
if (( mid_write > 0 )); then ok "$mid_write kill(s) landed mid-write"; else bad "no kill landed while a partition was being written"; fi
visible_tmp=$(find "$LAKE" -name '*.parquet' -path '*partial*' | wc -l)
expect_eq "$visible_tmp" 0 "no temporary file matches *.parquet"
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/big.csv" >/dev/null || bad "the re-run after the kills failed"
partition_rows "$LAKE" > "$WORK/final.rows"
if cmp -s "$WORK/final.rows" "$WORK/ref.rows"; then ok "re-run completes the lake exactly"; else
  bad "final lake differs from the reference"; diff "$WORK/final.rows" "$WORK/ref.rows" | head -5; fi
left=$(find "$LAKE" -name '*.partial' | wc -l)
expect_eq "$left" 0 "stale temporaries removed by the next writer"
finish
