#!/usr/bin/env bash
# The main job, as far as the roadmap has come: market data as a MetaTrader 5
# export — a deterministic generated WIN-like market, or your own export with
# `make demo DATA=path/to/export.csv` — is imported into the Parquet lake,
# verified; the Gatekeeper (classifier + q10/q90, ONNX) is trained on the first
# two thirds of the history, and the last third is backtested out of sample
# with the MA-breakout strategy, the risk engine and the gate, beside the same
# run without the gate; the run ends in a self-contained HTML report. Then a
# walk-forward over the whole history retrains the Gatekeeper fold by fold and
# stitches the test windows (its own report); runs are tracked in out/demo/mlruns.
set -euo pipefail
QUANT=$(readlink -f "${1:?usage: demo.sh path/to/quant [DATA]}")
DATA=${2:-}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/out/demo"
LAKE="$OUT/lake"
RUN="$OUT/backtest"
MODELS="$OUT/models"
WF="$OUT/walkforward"
rm -rf "$LAKE" "$RUN" "$MODELS" "$WF" "$OUT/mlruns"; mkdir -p "$OUT"
export MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI:-$OUT/mlruns}
q() { "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" "$@"; }

GENERATED=()
if [[ -n $DATA ]]; then
  [[ -f $DATA ]] || { echo "demo: DATA=$DATA: no such file" >&2; exit 1; }
  SOURCE="your MT5 export $(basename "$DATA")"
  INPUT=$DATA
else
  INPUT="$OUT/WIN_generated_M1.csv"
  SOURCE="generated WIN-like market (deterministic, seed 42, 120 sessions): not real prices"
  # No --generated-data needed: generate labels the file (FILE.generated.json),
  # ingest marks the lake, and the backtest reads the mark from there.
  GENERATED=(--seed 42)
  echo "== generate ($SOURCE)"
  q generate -s WIN --days 120 --seed 42 --out "$INPUT"
fi
echo "== ingest $INPUT"
q ingest -f mt5-bars -s WIN "$INPUT"
echo "== lake"
q lake ls
set +e; q lake verify -s WIN --examples 3; set -e
SPLIT=$(q lake query "select strftime(quantile_disc(ts, 0.67), '%Y-%m-%d') as d from bars_1m where symbol = 'WIN'" | tail -1)
echo "== train the Gatekeeper on the bars before $SPLIT"
q train -s WIN --to "$SPLIT" --out "$MODELS"
echo "== backtest from $SPLIT, out of sample (ma_breakout + gate, 1 % risk, 2×ATR stop, −3 % daily breaker)"
q backtest -s WIN --from "$SPLIT" --gate "$MODELS" --out "$RUN" "${GENERATED[@]}" --data-source "$SOURCE"
echo "== walk-forward over the whole history ([walkforward] windows, models retrained per fold)"
if q walkforward -s WIN --out "$WF"; then WF_REPORT="$WF/report.html"; else WF_REPORT="(not enough sessions for one fold)"; fi
echo
echo "report: $RUN/report.html"
echo "walk-forward report: $WF_REPORT"
