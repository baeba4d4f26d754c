#!/usr/bin/env bash
# End-to-end tests of `quant registry`: register two versions, promote, roll back,
# and check what ls/show print and what lands on disk (MLflow's mlruns/ layout).
source "$(dirname "$0")/lib.sh"
REG="$WORK/mlruns"
M="$REG/models/gatekeeper-WIN"
r() { q registry --registry "$REG" "$@"; }

# Two model directories as quant train writes them (contents made up: the registry copies, it does not parse).
for v in 1 2; do
  mkdir -p "$WORK/model$v"
  printf '{"model": %s}\n' "$v" >"$WORK/model$v/manifest.json"
  printf 'onnx-%s' "$v" >"$WORK/model$v/gatekeeper_prob.onnx"
done

echo "== an empty registry"
out=$(r ls 2>&1); st=$?
expect_status $st 0 "ls of an empty registry"
expect_contains "$out" "no models registered" "says there are none"

echo "== register two versions"
out=$(r register gatekeeper-WIN "$WORK/model1" --tag symbol=WIN 2>&1); st=$?
expect_status $st 0 "register version 1"
expect_contains "$out" "registered gatekeeper-WIN version 1" "names the version"
out=$(r register gatekeeper-WIN "$WORK/model2" 2>&1); st=$?
expect_status $st 0 "register version 2"
expect_contains "$out" "version 2" "the next number"
expect_eq "$(sed -n 's/^storage_location: //p' "$M/version-1/meta.yaml" | grep -c '/artifacts/model')" "1" \
  "version 1 points into a run's artifacts"
loc=$(sed -n "s/^storage_location: 'file:\/\/\(.*\)'$/\1/p" "$M/version-1/meta.yaml")
expect_eq "$(cat "$loc/gatekeeper_prob.onnx")" "onnx-1" "the files were copied there"
printf 'changed' >"$WORK/model1/gatekeeper_prob.onnx"
expect_eq "$(cat "$loc/gatekeeper_prob.onnx")" "onnx-1" "the registered copy does not follow the source"
out=$(r register gatekeeper-WIN "$WORK/nowhere" 2>&1); st=$?
expect_status $st 1 "register a missing directory"
expect_contains "$out" "does not exist" "says so"

echo "== promote 1, then 2"
out=$(r promote gatekeeper-WIN 1 --reason "first champion" 2>&1); st=$?
expect_status $st 0 "promote 1"
expect_contains "$out" "champion of gatekeeper-WIN: (unset) -> 1" "from unset to 1"
out=$(r promote gatekeeper-WIN 2 --reason "beat v1 out of sample" --decision '{"oos_sharpe": 1.4, "margin": 0.2, "dsr": 0.97}' 2>&1); st=$?
expect_status $st 0 "promote 2"
expect_contains "$out" "1 -> 2" "from 1 to 2"
expect_eq "$(cat "$M/aliases/champion")" "2" "the alias file holds 2"
out=$(r promote gatekeeper-WIN 2 2>&1); st=$?
expect_status $st 1 "promote the champion again"
expect_contains "$out" "already points at version 2" "says nothing would change"
out=$(r promote gatekeeper-WIN 7 2>&1); st=$?
expect_status $st 1 "promote a version that does not exist"
expect_contains "$out" "versions: 1, 2" "lists the versions"
out=$(r promote gatekeeper-WIN 1 --decision '[1]' 2>&1); st=$?
expect_status $st 1 "a decision that is not a JSON object"

echo "== ls and show"
out=$(r ls 2>&1); st=$?
expect_status $st 0 "ls"
expect_contains "$out" "NAME" "a table header"
expect_contains "$out" "gatekeeper-WIN" "lists the model"
expect_contains "$out" "champion=2" "with its alias"
line=$(printf '%s\n' "$out" | grep '^gatekeeper-WIN')
expect_eq "$(echo "$line" | awk '{print $2, $3}')" "2 2" "2 versions, latest 2"
out=$(r show gatekeeper-WIN 2>&1); st=$?
expect_status $st 0 "show the model"
expect_contains "$out" "VERSION" "a versions table"
expect_contains "$out" "history of champion:" "the alias history"
expect_contains "$out" "promote  1 -> 2" "the second promotion"
expect_contains "$out" "\"beat v1 out of sample\"" "with its reason"
expect_contains "$out" '"dsr":0.97' "and its numbers"
out=$(r show gatekeeper-WIN champion 2>&1); st=$?
expect_status $st 0 "show an alias"
expect_contains "$out" "gatekeeper-WIN version 2 (alias champion)" "resolves the alias"
out=$(r show gatekeeper-WIN 1 2>&1); st=$?
expect_status $st 0 "show a version"
expect_contains "$out" "symbol=WIN" "with its tags"
out=$(r show nope 2>&1); st=$?
expect_status $st 1 "show an unknown model"
expect_contains "$out" "no model 'nope' (models: gatekeeper-WIN)" "lists the known models"

echo "== roll back"
out=$(r rollback gatekeeper-WIN --reason "v2 lost money live" 2>&1); st=$?
expect_status $st 0 "rollback"
expect_contains "$out" "2 -> 1" "back to 1"
expect_eq "$(cat "$M/aliases/champion")" "1" "the alias file holds 1 again"
out=$(r rollback gatekeeper-WIN 2>&1); st=$?
expect_status $st 1 "rollback past the first promotion"
expect_contains "$out" "no earlier version" "says why"
expect_eq "$(cat "$M/aliases/champion")" "1" "and leaves the alias alone"
hist="$M/aliases_history/champion.jsonl"
expect_eq "$(wc -l <"$hist" | tr -d ' ')" "3" "three decisions recorded"
expect_contains "$(sed -n 3p "$hist")" '"action":"rollback"' "the last one is the rollback"
expect_contains "$(sed -n 3p "$hist")" '"from":2' "from 2"
expect_contains "$(sed -n 2p "$hist")" '"margin":0.2' "the promotion kept its numbers"

echo "== MLFLOW_TRACKING_URI picks the registry when --registry is absent"
out=$(MLFLOW_TRACKING_URI="file://$REG" q registry ls 2>&1); st=$?
expect_status $st 0 "ls through MLFLOW_TRACKING_URI"
expect_contains "$out" "champion=1" "the same registry"
out=$(q registry --registry "sqlite:///x.db" ls 2>&1); st=$?
expect_status $st 1 "an unsupported store"
expect_contains "$out" "sqlite" "names it"
finish
