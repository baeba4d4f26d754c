#!/usr/bin/env bash
# End-to-end tests of `quant train` and the gated backtest through the real binary.
source "$(dirname "$0")/lib.sh"
LAKE="$WORK/lake"
q generate -s WIN --days 60 --seed 5 --out "$WORK/win.csv" >/dev/null
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win.csv" >/dev/null

echo "== quant train writes three checked ONNX models, their merged graph and a manifest"
out=$(q train --lake "$LAKE" -s WIN --to 2024-03-04 --out "$WORK/models" 2>&1); st=$?
expect_status $st 0 "train runs"
expect_contains "$out" "test (out-of-sample" "reports the test segment's metrics as out-of-sample"
expect_contains "$out" "early stopping (chose the trees, not out-of-sample)" "labels the early-stopping metrics"
expect_contains "$out" "calibration table on test" "reports the calibration table"
expect_contains "$out" "raw q10 > q90" "reports how often the raw quantiles crossed"
expect_contains "$(cat "$WORK/models/manifest.json")" '"measured_on": "test"' "the manifest says where its metrics were measured"
for f in gatekeeper_prob.onnx gatekeeper_q10.onnx gatekeeper_q90.onnx gatekeeper.onnx manifest.json; do
  if [[ -s $WORK/models/$f ]]; then ok "wrote $f"; else bad "missing $f"; fi
done
for m in prob q10 q90; do
  want=$(grep -A3 "\"gatekeeper_$m.onnx\"" "$WORK/models/manifest.json" | grep -o '"sha256": "[0-9a-f]*"' | head -1 | cut -d'"' -f4)
  got=$(openssl dgst -sha256 "$WORK/models/gatekeeper_$m.onnx" | awk '{print $NF}')
  expect_eq "$got" "$want" "manifest SHA-256 of gatekeeper_$m.onnx"
done
merged=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["merged"]; print(m["file"], m["sha256"], *m["outputs"])' \
  "$WORK/models/manifest.json")
got=$(openssl dgst -sha256 "$WORK/models/gatekeeper.onnx" | awk '{print $NF}')
expect_eq "$merged" "gatekeeper.onnx $got prob q10 q90" "manifest lists gatekeeper.onnx (SHA-256, outputs prob q10 q90)"
expect_contains "$(cat "$WORK/models/manifest.json")" '"names"' "manifest lists the features"
echo "== progress on a terminal only, never with -q; --json prints one object"
tty_out=$(script -qec "$(printf '%q ' "$QUANT" --config "$ROOT/config/quant.toml" train --lake "$LAKE" -s WIN --to 2024-03-04 --out "$WORK/models_tty")" /dev/null 2>&1)
expect_contains "$tty_out" "[train WIN] HMM fit: EM iteration" "on a terminal: the HMM fit's iterations"
expect_contains "$tty_out" "[train WIN] classifier: boosting round" "on a terminal: the boosting rounds"
quiet_out=$(script -qec "$(printf '%q ' "$QUANT" --config "$ROOT/config/quant.toml" -q train --lake "$LAKE" -s WIN --to 2024-03-04 --out "$WORK/models_q")" /dev/null 2>&1)
expect_eq "$(grep -c 'boosting round' <<<"$quiet_out")" 0 "-q: no progress on a terminal"
expect_eq "$(grep -c 'boosting round' <<<"$out")" 0 "not a terminal: no progress"
json=$(q train --lake "$LAKE" -s WIN --to 2024-03-04 --out "$WORK/models2" --json 2>/dev/null)
summary=$(python3 -c 'import json, sys; j = json.loads(sys.stdin.read()); print(j["symbol"], len(j["models"]), j["labels"]["labelled"] > 0, j["test"]["rows"] > 0, sorted(j["segments"]))' <<<"$json")
expect_eq "$summary" "WIN 3 True True ['calibration', 'early_stopping', 'test', 'train']" "--json: symbol, models, labels, test metrics, segments"
if cmp -s "$WORK/models/gatekeeper_prob.onnx" "$WORK/models2/gatekeeper_prob.onnx" &&
   cmp -s "$WORK/models/gatekeeper_q90.onnx" "$WORK/models2/gatekeeper_q90.onnx" &&
   cmp -s "$WORK/models/gatekeeper.onnx" "$WORK/models2/gatekeeper.onnx"; then
  ok "training is deterministic (identical ONNX bytes)"
else
  bad "two trainings gave different models"
fi

echo "== the gated backtest, beside its ungated twin"
out=$(q backtest --lake "$LAKE" -s WIN --from 2024-03-04 --gate "$WORK/models" --out "$WORK/run" 2>&1); st=$?
expect_status $st 0 "gated backtest runs"
expect_contains "$out" "gate:" "says how many signals passed"
for f in gate.csv model_metrics.json ungated/trades.csv ungated/summary.json report.html; do
  if [[ -s $WORK/run/$f ]]; then ok "wrote $f"; else bad "missing $f"; fi
done
gated=$(($(wc -l < "$WORK/run/trades.csv") - 1)); ungated=$(($(wc -l < "$WORK/run/ungated/trades.csv") - 1))
passed=$(awk -F, 'NR > 1 && $8 == 1' "$WORK/run/gate.csv" | wc -l)
if (( gated <= ungated )); then ok "the gate only removes trades ($gated ≤ $ungated)"; else bad "gated $gated > ungated $ungated"; fi
if (( gated <= passed )); then ok "every gated trade passed the gate ($gated ≤ $passed passed)"; else bad "$gated trades but $passed passed"; fi
bad_rule=$(awk -F, 'NR > 1 && $8 == 1 && ($3 < 0.5 || $5 < $6 || $4 < -$7)' "$WORK/run/gate.csv" | wc -l)
expect_eq "$bad_rule" 0 "every passed signal meets prob ≥ 0.5, q90 ≥ target, q10 ≥ −stop"
expect_contains "$(cat "$WORK/run/report.html")" "Gated vs ungated" "the report compares gated and ungated"

echo "== a gated backtest on the models' training window is refused unless asked for"
out=$(q backtest --lake "$LAKE" -s WIN --gate "$WORK/models" --no-compare --out "$WORK/run_overlap" 2>&1); st=$?
expect_status $st 1 "refused without --allow-overlap"
expect_contains "$out" "in-sample" "says why"
expect_contains "$out" "--allow-overlap" "says how to run it anyway"
out=$(q backtest --lake "$LAKE" -s WIN --gate "$WORK/models" --no-compare --allow-overlap --out "$WORK/run_overlap" 2>&1); st=$?
expect_status $st 0 "runs with --allow-overlap"
expect_contains "$(cat "$WORK/run_overlap/model_metrics.json")" '"overlap"' "the run records the overlap for its report"
expect_contains "$(cat "$WORK/run_overlap/report.html")" "allow-overlap" "the report can say so"

echo "== quant walkforward: folds, stitched out-of-sample days, a report"
sed -e 's/^train_sessions = .*/train_sessions = 20/' -e 's/^early_stopping_sessions = .*/early_stopping_sessions = 5/' \
    -e 's/^validation_sessions = .*/validation_sessions = 8/' -e 's/^test_sessions = .*/test_sessions = 8/' \
    -e 's/^step_sessions = .*/step_sessions = 8/' "$ROOT/config/quant.toml" > "$WORK/wf.toml"
out=$("$QUANT" --config "$WORK/wf.toml" walkforward --lake "$LAKE" -s WIN --out "$WORK/wf" 2>&1); st=$?
expect_status $st 0 "walkforward runs"
expect_contains "$out" "fold 1/" "reports progress per fold"
for f in folds.csv oos_days.csv summary.json report.html fold-1/model/manifest.json; do
  if [[ -s $WORK/wf/$f ]]; then ok "wrote $f"; else bad "missing $f"; fi
done
folds=$(($(wc -l < "$WORK/wf/folds.csv") - 1))
expect_eq "$folds" 4 "60 sessions give 4 folds of 8 test sessions after 20 + 8"
python3 - "$WORK/wf" <<'PY' && ok "every out-of-sample day lies after its fold's models were fitted" || bad "a test day precedes its fold's fit"
import csv, json, sys
d = sys.argv[1]
folds = list(csv.DictReader(open(d + "/folds.csv")))
for row in csv.DictReader(open(d + "/oos_days.csv")):
    f = folds[int(row["fold"]) - 1]
    fit_end = json.load(open(f"{d}/fold-{row['fold']}/model/manifest.json"))["params"]["split"]["fit_end"]
    assert fit_end <= f["test_start"] <= row["ts"] < f["test_end"], (row, f, fit_end)
PY

echo "== a model directory written before gatekeeper.onnx existed gates identically"
cp -r "$WORK/models" "$WORK/older"
rm "$WORK/older/gatekeeper.onnx"
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); del m["merged"]; json.dump(m, open(sys.argv[1], "w"), indent=2)' \
  "$WORK/older/manifest.json"
out=$(q backtest --lake "$LAKE" -s WIN --from 2024-03-04 --gate "$WORK/older" --no-compare --out "$WORK/run_older" 2>&1); st=$?
expect_status $st 0 "gated backtest on the older directory runs"
if cmp -s "$WORK/run/gate.csv" "$WORK/run_older/gate.csv" && cmp -s "$WORK/run/trades.csv" "$WORK/run_older/trades.csv"; then
  ok "same gate.csv and trades.csv as with gatekeeper.onnx"
else
  bad "the older directory gates differently"
fi

echo "== the HMM regime filter uses the HMM fitted by quant train"
sed 's/^hmm_filter = false/hmm_filter = true/' "$ROOT/config/quant.toml" > "$WORK/hmm.toml"
out=$("$QUANT" --config "$WORK/hmm.toml" backtest --lake "$LAKE" -s WIN --from 2024-03-04 --gate "$WORK/models" --no-compare --out "$WORK/hmm" 2>&1); st=$?
expect_status $st 0 "backtest with the HMM filter runs"
blocked=$(grep -c "blocked by the hmm filter" "$WORK/hmm/risk_events.csv")
if (( blocked > 0 )); then ok "the HMM filter blocked $blocked signals"; else bad "the HMM filter blocked nothing"; fi

echo "== models from another feature configuration are refused"
sed 's/^fast = 9$/fast = 8/' "$ROOT/config/quant.toml" > "$WORK/other.toml"
out=$("$QUANT" --config "$WORK/other.toml" backtest --lake "$LAKE" -s WIN --gate "$WORK/models" --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "a feature mismatch fails"
expect_contains "$out" "do not fit this configuration's features" "says why"
out=$(q backtest --lake "$LAKE" -s WIN --gate "$WORK/nowhere" --out "$WORK/x" 2>&1); st=$?
expect_status $st 1 "missing models fail"
expect_contains "$out" "run quant train" "says how to get models"

echo "== EURUSD: numbers keep the instrument's precision (a 0.0010 target, 0.0001-sized stops)"
FX=("$DATA"/fx/DAT_ASCII_EURUSD_M1_2017*.csv.gz)
if [[ ! -f ${FX[0]} ]]; then
  if [[ -n ${CI:-} ]]; then bad "../shared/data/fx is missing, and CI always has it"; else echo "  SKIP: ../shared/data/fx not found"; fi
else
  q ingest --lake "$WORK/fxlake" -f histdata -s EURUSD -q "${FX[@]}" >/dev/null
  out=$(q train --lake "$WORK/fxlake" -s EURUSD --to 2017-05-15 --out "$WORK/fxmodels" 2>&1); st=$?
  expect_status $st 0 "EURUSD trains"
  expect_contains "$out" "target 0.001 points" "the target is printed as 0.001, not 0"
  out=$(q backtest --lake "$WORK/fxlake" -s EURUSD --from 2017-05-15 --gate "$WORK/fxmodels" --no-compare --no-report \
        --out "$WORK/fxrun" 2>&1); st=$?
  expect_status $st 0 "EURUSD gated backtest runs"
  stop=$(awk -F, 'NR == 2 {print $7}' "$WORK/fxrun/gate.csv")
  if [[ $stop =~ ^0\.[0-9]{6,}$ ]] && [[ $stop != 0.000100* ]]; then
    ok "gate.csv writes the stop with the instrument's digits ($stop)"
  else
    bad "gate.csv stop '$stop' lost the instrument's precision"
  fi
fi
finish
