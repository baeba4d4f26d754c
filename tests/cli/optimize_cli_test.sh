#!/usr/bin/env bash
# End-to-end tests of `quant optimize`: a small study on generated bars, its
# determinism, kill -9 and resume, two workers sharing one study (a journal
# file; Redis), and the nightly champion/challenger decision with a rollback.
source "$(dirname "$0")/lib.sh"
LAKE="$WORK/lake"
q generate -s WIN --days 60 --seed 9 --out "$WORK/win.csv" >/dev/null
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win.csv" >/dev/null
# Short folds (4 of them over 60 sessions) and a small space: a trial takes a second or two.
sed -e 's/^train_sessions = .*/train_sessions = 20/' -e 's/^early_stopping_sessions = .*/early_stopping_sessions = 5/' \
    -e 's/^validation_sessions = .*/validation_sessions = 8/' -e 's/^test_sessions = .*/test_sessions = 8/' \
    -e 's/^step_sessions = .*/step_sessions = 8/' -e "s|^storage = .*|storage = \"$WORK/studies\"|" \
    -e "s|^registry = \"mlruns\".*|registry = \"$WORK/mlruns\"|" "$ROOT/config/quant.toml" > "$WORK/q.toml"
unset MLFLOW_TRACKING_URI  # the configuration's registry: $WORK/mlruns
o() { "$QUANT" --config "$WORK/q.toml" --lake "$LAKE" optimize -s WIN "$@"; }
# In the background: the worker itself, so that $! is its pid (kill -9 must reach it).
o_bg() { exec "$QUANT" --config "$WORK/q.toml" --lake "$LAKE" optimize -s WIN "$@"; }
journal_count() {  # op [state]: lines of the study's journal with that op (and state)
  python3 - "$1" "$2" "${3:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try: op = json.loads(line)
    except ValueError: continue  # a torn last line
    if op.get("op") == sys.argv[2] and (not sys.argv[3] or op.get("state") == sys.argv[3]): n += 1
print(n)
PY
}

echo "== a study: trials, a report with DSR and PBO, tracked runs"
out=$(o --study a --trials 8 --out "$WORK/a" 2>&1); st=$?
expect_status $st 0 "optimize runs"
expect_contains "$out" "deflated Sharpe ratio" "prints the DSR"
expect_contains "$out" "PBO" "prints the PBO"
for f in study.json trials.csv report.html; do
  if [[ -s $WORK/a/$f ]]; then ok "wrote $f"; else bad "missing $f"; fi
done
expect_eq "$(($(wc -l < "$WORK/a/trials.csv") - 1))" 8 "8 trials in trials.csv"
expect_contains "$(cat "$WORK/a/report.html")" "Deflated Sharpe ratio" "the report shows the DSR"
expect_contains "$(cat "$WORK/a/report.html")" "PBO (CSCV)" "the report shows the PBO"
if grep -qs "^name: 'optimize a'" "$WORK"/mlruns/*/meta.yaml; then ok "an MLflow experiment for the study"; else bad "no MLflow experiment 'optimize a'"; fi
out=$(o --study a --trials 8 --out "$WORK/a" 2>&1); st=$?
expect_status $st 0 "a study that holds its trials runs none again"
expect_eq "$(journal_count "$WORK/studies/a.jsonl" start)" 8 "no trial was started twice"

echo "== one worker with a seed is deterministic"
o --study b --trials 8 --out "$WORK/b" >/dev/null 2>&1
if cmp -s <(cut -d, -f1-3,5- "$WORK/a/trials.csv") <(cut -d, -f1-3,5- "$WORK/b/trials.csv"); then
  ok "same params and values"
else
  bad "two studies with the same seed differ: $(diff "$WORK/a/trials.csv" "$WORK/b/trials.csv" | head -4)"
fi

echo "== kill -9 mid-run, then resume: no finished trial lost, the running one retried"
o_bg --study k --trials 10 --no-report --out "$WORK/k" >/dev/null 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do
  [[ -f $WORK/studies/k.jsonl ]] && (( $(journal_count "$WORK/studies/k.jsonl" finish) >= 3 )) && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
finished_before=$(journal_count "$WORK/studies/k.jsonl" finish)
started_before=$(journal_count "$WORK/studies/k.jsonl" start)
if (( finished_before >= 3 && finished_before < 10 )); then ok "killed after $finished_before finished trials"; else bad "the kill landed at $finished_before finished trials"; fi
python3 - "$WORK/studies/k.jsonl" > "$WORK/k_before.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: op = json.loads(line)
    except ValueError: continue
    if op.get("op") == "finish": print(op["n"], op["state"], op["value"])
PY
out=$(o --study k --trials 10 --out "$WORK/k" 2>&1); st=$?
expect_status $st 0 "the resumed study completes"
expect_eq "$(($(wc -l < "$WORK/k/trials.csv") - 1))" 10 "10 trials in the end"
lost=$(python3 - "$WORK/k/trials.csv" "$WORK/k_before.txt" <<'PY'
import csv, sys
final = {int(r["trial"]): r for r in csv.DictReader(open(sys.argv[1]))}
lost = 0
for line in open(sys.argv[2]):
    n, state, value = line.split()
    r = final.get(int(n))
    if r is None or r["state"] != state or (state == "complete" and abs(float(r["value"]) - float(value)) > 1e-9):
        lost += 1
print(lost)
PY
)
expect_eq "$lost" 0 "every trial finished before the kill is in the final study, unchanged"
if (( started_before > finished_before )); then
  retried=$(python3 - "$WORK/k/trials.csv" <<'PY'
import csv, sys
print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if int(r["attempt"]) > 1))
PY
)
  if (( retried >= 1 )); then ok "the trial running at the kill was retried ($retried with attempt > 1)"; else bad "no trial retried"; fi
fi

echo "== two workers on one journal split the trials and never run one twice"
o_bg --study w --trials 10 --no-report --out "$WORK/w" >/dev/null 2>&1 &
p1=$!
o_bg --study w --trials 10 --no-report --out "$WORK/w" >/dev/null 2>&1 &
p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
expect_eq "$s1$s2" "00" "both workers finish"
expect_eq "$(journal_count "$WORK/studies/w.jsonl" finish)" 10 "10 trials finished in all"
dups=$(python3 - "$WORK/studies/w.jsonl" <<'PY'
import json, sys, collections
starts = collections.Counter()
for line in open(sys.argv[1]):
    op = json.loads(line)
    if op.get("op") == "start": starts[op["n"]] += 1
print(sum(1 for n, c in starts.items() if c > 1))
PY
)
expect_eq "$dups" 0 "no trial number started twice"
pids=$(python3 - "$WORK/studies/w.jsonl" <<'PY'
import json, sys
print(len({json.loads(l)["pid"] for l in open(sys.argv[1]) if json.loads(l).get("op") == "start"}))
PY
)
expect_eq "$pids" 2 "both workers ran trials"

echo "== two workers on one Redis"
start_redis; rs=$?
if (( rs == 0 )); then
  o_bg --study r --trials 8 --storage "redis://127.0.0.1:$QUANT_REDIS_PORT" --no-report --out "$WORK/r" >/dev/null 2>&1 &
  p1=$!
  o_bg --study r --trials 8 --storage "redis://127.0.0.1:$QUANT_REDIS_PORT" --out "$WORK/r" > "$WORK/r.txt" 2>&1 &
  p2=$!
  wait $p1; s1=$?; wait $p2; s2=$?
  expect_eq "$s1$s2" "00" "both Redis workers finish"
  out=$(o --study r --trials 8 --storage "redis://127.0.0.1:$QUANT_REDIS_PORT" --out "$WORK/r" 2>&1)
  expect_eq "$(($(wc -l < "$WORK/r/trials.csv") - 1))" 8 "8 trials in the Redis study"
  attempts=$(awk -F, 'NR > 1 && $4 != 1' "$WORK/r/trials.csv" | wc -l)
  expect_eq "$attempts" 0 "every trial ran once (attempt 1)"
elif (( rs == 77 )); then
  echo "  (skipped: no redis-server)"
fi

echo "== nightly on real WIN bars: the first challenger becomes champion; one short of the margin does not"
WIN_FILE="$DATA/b3/WIN_N_M1_2020-11_2021-03.csv.gz"
if [[ ! -f $WIN_FILE ]]; then
  if [[ -n ${CI:-} ]]; then bad "$WIN_FILE is missing, and CI always has ../shared/data"; else echo "  SKIP: $WIN_FILE not found"; fi
else
  q ingest --lake "$WORK/winlake" -f mt5-bars -s WIN -q "$WIN_FILE" >/dev/null
  sed -e 's/^promote_min_dsr = .*/promote_min_dsr = 0.0/' "$ROOT/config/quant.toml" \
      -e "s|^storage = .*|storage = \"$WORK/studies\"|" -e "s|^registry = \"mlruns\".*|registry = \"$WORK/mlruns\"|" \
      > "$WORK/n.toml"
  n() { "$QUANT" --config "$WORK/n.toml" --lake "$WORK/winlake" optimize -s WIN "$@"; }
  out=$(n --study n1 --trials 8 --nightly --out "$WORK/n1" 2>&1); st=$?
  expect_status $st 0 "nightly runs"
  expect_contains "$out" "PROMOTED to champion" "the first challenger with a defined DSR is promoted"
  expect_contains "$(cat "$WORK/n1/nightly/decision.json")" '"promoted": true' "the decision is recorded with its numbers"
  sed -i 's/^promote_margin = .*/promote_margin = 100.0/' "$WORK/n.toml"
  out=$(n --study n2 --trials 8 --nightly --out "$WORK/n2" 2>&1); st=$?
  expect_status $st 0 "second nightly runs"
  expect_contains "$out" "champion kept" "a challenger short of the margin is not promoted"
  expect_contains "$(cat "$WORK/n2/nightly/decision.json")" '"champion": {' "the champion's replayed result is in the decision"
  M="$WORK/mlruns/models/gatekeeper-WIN"
  expect_eq "$(cat "$M/aliases/champion")" 1 "champion is still version 1"
  expect_eq "$(cat "$M/aliases/challenger")" 2 "challenger is version 2"
  r() { q registry --registry "$WORK/mlruns" "$@"; }
  r promote gatekeeper-WIN 2 --reason "manual" >/dev/null 2>&1
  expect_eq "$(cat "$M/aliases/champion")" 2 "a manual promotion moves the champion"
  r rollback gatekeeper-WIN >/dev/null 2>&1
  expect_eq "$(cat "$M/aliases/champion")" 1 "rollback returns to version 1"
  expect_eq "$(wc -l < "$M/aliases_history/champion.jsonl")" 3 "three decisions recorded (promote, promote, rollback)"
  for f in manifest.json gatekeeper.onnx trial_params.json thresholds.json; do
    if find "$WORK/mlruns" -path "*artifacts/model/$f" | grep -q .; then ok "the version's artifacts hold $f"; else bad "no $f in the version's artifacts"; fi
  done
fi

echo "== errors"
out=$(o --study e --trials 2 --storage "redis://127.0.0.1:1" --out "$WORK/e" 2>&1); st=$?
if (( st != 0 )); then ok "an unreachable Redis fails"; else bad "an unreachable Redis did not fail"; fi
sed 's/^name = "ma_breakout.fast"/name = "ma_breakout.fastest"/' "$WORK/q.toml" > "$WORK/bad.toml"
out=$("$QUANT" --config "$WORK/bad.toml" --lake "$LAKE" optimize -s WIN --trials 2 --out "$WORK/e" 2>&1); st=$?
expect_status $st 1 "an unknown parameter name fails before any trial"
expect_contains "$out" "unknown name 'ma_breakout.fastest'" "naming it"
finish
