#!/usr/bin/env bash
# The main job, as far as the roadmap has come: a generated WIN-like market
# (or your own MT5 export: make demo DATA=path/to/export.csv) is written as a
# MetaTrader 5 export, imported into a Parquet lake, listed, verified, and
# summarised in an HTML report. Later steps add the backtest and the model.
set -euo pipefail
QUANT=$(readlink -f "${1:?usage: demo.sh path/to/quant [DATA]}")
DATA=${2:-}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/out/demo"
LAKE="$OUT/lake"
rm -rf "$LAKE"; mkdir -p "$OUT"
q() { "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" "$@"; }

if [[ -n $DATA ]]; then
  [[ -f $DATA ]] || { echo "demo: DATA=$DATA: no such file" >&2; exit 1; }
  SOURCE="your MT5 export $(basename "$DATA")"
  INPUT=$DATA
else
  INPUT="$OUT/WIN_generated_M1.csv"
  SOURCE="GENERATED data (deterministic WIN-like market, seed 42): not real prices"
  q generate -s WIN --days 60 --seed 42 --out "$INPUT"
fi
echo "== ingest ($SOURCE)"
q ingest -f mt5-bars -s WIN "$INPUT"
echo "== lake ls"
q lake ls | tee "$OUT/ls.txt"
echo "== lake verify"
set +e; q lake verify -s WIN | tee "$OUT/verify.txt"; verify_status=${PIPESTATUS[0]}; set -e
echo "== daily closes"
q lake bars -s WIN -t 1d > "$OUT/daily.csv"
head -5 "$OUT/daily.csv"

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
{
  echo '<!doctype html><html><head><meta charset="utf-8"><title>QuantTrading demo</title>'
  echo '<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}pre{background:#f4f4f4;padding:1em;overflow:auto}.warn{color:#a40}</style></head><body>'
  echo "<h1>QuantTrading demo: data lake</h1><p class=\"warn\">Source: $(printf '%s' "$SOURCE" | html_escape)</p>"
  echo "<h2>Lake contents</h2><pre>$(html_escape < "$OUT/ls.txt")</pre>"
  echo "<h2>Verification</h2><pre>$(html_escape < "$OUT/verify.txt")</pre>"
  echo "<h2>Daily bars (first 20)</h2><pre>$(head -21 "$OUT/daily.csv" | html_escape)</pre>"
  echo '<p>The backtest, model and risk sections arrive with the next roadmap steps.</p></body></html>'
} > "$OUT/report.html"
echo
echo "report: $OUT/report.html"
exit $verify_status
