#!/usr/bin/env bash
# quant lake backup / restore of the lake built from ../shared/data, to a
# local S3 (s3rver 3.7.1 behind tests/s3/s3_server.js, which recomputes every
# signature) and to a directory, all on this machine (loopback: no network
# cost, so this measures the tool: hashing, signing, HTTP, disk).
#   full       backup to an empty prefix (every file hashed and uploaded)
#   unchanged  second backup, nothing changed (hashes from the cache, one listing)
#   one change backup after one WIN bar was replaced (one partition uploaded)
#   restore    into a new directory (every object downloaded and checked)
# RUNS repetitions of each (a fresh prefix per full run); median wall seconds.
# The report is printed and saved to bench/results/backup_<date>.txt.
# Builds nothing: cmake --build BUILD --target quant.
# Usage: bench/backup/run.sh [BUILD_DIR=build/ci] [RUNS=5]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/ci}")
RUNS=${2:-5}
QUANT="$BUILD/apps/quant/quant"
DATA="$ROOT/../shared/data"
S3DIR="${QUANT_S3RVER_DIR:-$ROOT/third_party/s3rver}"
REPORT="$ROOT/bench/results/backup_$(date -u +%Y%m%d).txt"
die() { echo "bench/backup: $*" >&2; exit 1; }
[[ -x $QUANT ]] || die "build first: cmake --build $BUILD --target quant"
[[ -d $DATA ]] || die "$DATA is absent"
[[ -f $S3DIR/node_modules/s3rver/package.json ]] || die "s3rver is not installed (scripts/fetch_s3rver.sh)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d)
q() { "$QUANT" --config "$ROOT/config/quant.toml" "$@"; }
export S3_TEST_ACCESS_KEY=AKIABENCH S3_TEST_SECRET_KEY=bench-secret
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET_KEY
node --openssl-legacy-provider "$ROOT/tests/s3/s3_server.js" "$S3DIR/node_modules" "$WORK/s3" 0 bench >"$WORK/s3.out" 2>&1 &
S3_PID=$!
trap 'kill $S3_PID 2>/dev/null; wait $S3_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for ((i = 0; i < 200; i++)); do grep -q '^ready ' "$WORK/s3.out" && break; sleep 0.05; done
EP="http://127.0.0.1:$(awk '/^ready /{print $2}' "$WORK/s3.out")"

LAKE="$WORK/lake"
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$DATA/b3/WIN_N_M1_2020-11_2021-03.csv.gz" >/dev/null
q ingest --lake "$LAKE" -f trades -s WIN -q "$DATA/b3/WIN_trades_2021-06-15.csv.gz" >/dev/null
q ingest --lake "$LAKE" -f histdata -s EURUSD -q "$DATA"/fx/DAT_ASCII_EURUSD_M1_2017*.csv.gz >/dev/null
q ingest --lake "$LAKE" -f csv -s IDX -q "$DATA/backtrader/2006-01-02-volume-min-001.txt.gz" >/dev/null
FILES=$(cd "$LAKE" && find . -type f ! -path '*/.*' | wc -l)
BYTES=$(du -sb --exclude='.*' "$LAKE" | cut -f1)
sleep 2.1  # past the hash cache's 2 s window, as a lake between two nightly runs

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || die "failed: $*"; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A T
for kind in s3 dir; do
  off=0; [[ $kind == dir ]] && off=30  # a close on the tick grid the lake has not held yet: the partition really changes
  full=() unchanged=() change=() restore=()
  for ((r = 1; r <= RUNS; r++)); do
    if [[ $kind == s3 ]]; then dest=(--to "s3://bench/run$r" --endpoint "$EP"); from=(--from "s3://bench/run$r" --endpoint "$EP")
    else dest=(--to "$WORK/dir/run$r"); from=(--from "$WORK/dir/run$r"); fi
    rm -f "$LAKE/.backup-cache.json"
    full+=("$(secs q --lake "$LAKE" lake backup "${dest[@]}")")
    sleep 2.1
    unchanged+=("$(secs q --lake "$LAKE" lake backup "${dest[@]}")")
    printf 'Date,Time,Open,High,Low,Close,Tick,Volume,Spread\r\n2021.03.15,10:00:00,113665,113675,113605,%d,13692,42684,5\r\n' \
      $((113610 + r * 5 + off)) > "$WORK/fix.csv"
    q ingest --lake "$LAKE" -f mt5-bars -s WIN --replace -q "$WORK/fix.csv" >/dev/null
    change+=("$(secs q --lake "$LAKE" lake backup "${dest[@]}")")
    restore+=("$(secs q lake restore "${from[@]}" --to "$WORK/restored-$kind-$r")")
  done
  T[$kind.full]=$(median "${full[@]}"); T[$kind.unchanged]=$(median "${unchanged[@]}")
  T[$kind.change]=$(median "${change[@]}"); T[$kind.restore]=$(median "${restore[@]}")
done
{
  echo "quant lake backup/restore, lake from ../shared/data: $FILES files, $BYTES bytes"
  echo "date $(date -u +%FT%TZ), $(nproc) cores, load before $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg); median of $RUNS runs (wall seconds, quant start-up included)"
  printf '%-10s %10s %10s %10s %10s\n' store full unchanged "1 change" restore
  for kind in s3 dir; do
    printf '%-10s %10.3f %10.3f %10.3f %10.3f\n' "$kind" "${T[$kind.full]}" "${T[$kind.unchanged]}" "${T[$kind.change]}" "${T[$kind.restore]}"
  done
  echo "s3 = s3rver 3.7.1 on loopback (Node $(node --version)), every request's SigV4 recomputed by tests/s3/s3_server.js"
} | tee "$REPORT"
