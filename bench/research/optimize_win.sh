#!/usr/bin/env bash
# A walk-forward and a 50-trial optimisation on real WIN bars, from the raw MT5
# export to the report, timed (the issue's figure: under 10 minutes on 2 cores).
#   bash bench/research/optimize_win.sh path/to/quant [WIN_M1.csv.gz] [TRIALS] [WORKERS]
# Workers share one study (a journal file under flock), one per core by default.
set -euo pipefail
QUANT=$(readlink -f "${1:?usage: optimize_win.sh path/to/quant [DATA] [TRIALS] [WORKERS]}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${2:-$ROOT/../shared/data/b3/WIN_N_M1_2020-11_2021-03.csv.gz}
TRIALS=${3:-50}
WORKERS=${4:-$(nproc 2>/dev/null || echo 2)}
[[ -f $DATA ]] || { echo "optimize_win: no data file $DATA" >&2; exit 1; }
WORK=$(mktemp -d /tmp/quant-optimize-win.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CONFIG=$WORK/quant.toml
sed -e "s|^storage = .*|storage = \"$WORK/studies\"|" -e "s|^registry = \"mlruns\".*|registry = \"$WORK/mlruns\"|" \
  "$ROOT/config/quant.toml" > "$CONFIG"
q() { "$QUANT" --config "$CONFIG" --lake "$WORK/lake" "$@"; }
export MLFLOW_TRACKING_URI=$WORK/mlruns
start=$(date +%s.%N)
q ingest -q -f mt5-bars -s WIN "$DATA" >/dev/null
t_ingest=$(date +%s.%N)
q walkforward -q -s WIN --out "$WORK/wf" | tee "$WORK/wf.txt"
t_wf=$(date +%s.%N)
pids=()
for w in $(seq 2 "$WORKERS"); do
  q optimize -q -s WIN --study bench --trials "$TRIALS" --no-report --out "$WORK/opt" > "$WORK/worker$w.txt" 2>&1 &
  pids+=($!)
done
q optimize -q -s WIN --study bench --trials "$TRIALS" --out "$WORK/opt" | tee "$WORK/opt.txt"
for p in "${pids[@]}"; do wait "$p"; done
# The report again once every worker is done, so it sees all the trials.
q optimize -q -s WIN --study bench --trials "$TRIALS" --out "$WORK/opt" > "$WORK/opt_final.txt"
t_opt=$(date +%s.%N)
echo "---"
cat "$WORK/opt_final.txt"
python3 - "$WORK/opt/study.json" "$WORK/wf/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); w = json.load(open(sys.argv[2]))
print(f"walk-forward (default parameters): {w['folds']} folds, {w['days']} OOS days, gated return "
      f"{100*w['gated']['return']:+.2f} %, daily Sharpe {w['gated']['daily_sharpe']:.4f}, PSR {w['gated']['psr']}")
print(f"optimisation: {s['trials']} trials ({s['complete']} complete, {s['pruned']} pruned, {s['failed']} failed); "
      f"best trial {s['best']['trial']} OOS daily Sharpe {s['best']['oos_daily_sharpe']:.4f}")
print(f"  DSR {s['deflated_sharpe']['dsr']}  PSR {s['deflated_sharpe']['psr']}  SR0 {s['deflated_sharpe']['expected_max_sharpe']}"
      f"  PBO {s['pbo']['pbo']} over {s['pbo']['trials']} trials x {s['pbo']['days']} days")
PY
awk -v a="$start" -v b="$t_ingest" -v c="$t_wf" -v d="$t_opt" -v w="$WORKERS" 'BEGIN {
  printf "wall time: ingest %.1f s, walk-forward %.1f s, optimisation (%d workers) %.1f s, total %.1f s\n", b-a, c-b, w, d-c, d-a }'
