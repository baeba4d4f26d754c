#!/usr/bin/env bash
# The main job, as far as the roadmap has come: market data as a MetaTrader 5
# export — a deterministic generated WIN-like market, or your own export with
# `make demo DATA=path/to/export.csv` — is imported into the Parquet lake,
# verified, and backtested with the MA-breakout strategy and the risk engine;
# the run ends in a self-contained HTML report. Later steps add the model.
set -euo pipefail
QUANT=$(readlink -f "${1:?usage: demo.sh path/to/quant [DATA]}")
DATA=${2:-}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/out/demo"
LAKE="$OUT/lake"
RUN="$OUT/backtest"
rm -rf "$LAKE" "$RUN"; mkdir -p "$OUT"
q() { "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" "$@"; }

GENERATED=()
if [[ -n $DATA ]]; then
  [[ -f $DATA ]] || { echo "demo: DATA=$DATA: no such file" >&2; exit 1; }
  SOURCE="your MT5 export $(basename "$DATA")"
  INPUT=$DATA
else
  INPUT="$OUT/WIN_generated_M1.csv"
  SOURCE="generated WIN-like market (deterministic, seed 42, 120 sessions): not real prices"
  GENERATED=(--generated-data)
  echo "== generate ($SOURCE)"
  q generate -s WIN --days 120 --seed 42 --out "$INPUT"
fi
echo "== ingest $INPUT"
q ingest -f mt5-bars -s WIN "$INPUT"
echo "== lake"
q lake ls
set +e; q lake verify -s WIN --examples 3; set -e
echo "== backtest (ma_breakout, 1 % risk, 2×ATR stop, −3 % daily breaker)"
q backtest -s WIN --out "$RUN" "${GENERATED[@]}" --data-source "$SOURCE"
echo
echo "report: $RUN/report.html"
