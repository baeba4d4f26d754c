#!/usr/bin/env bash
# End-to-end test of `quant serve` (docs/contracts/serve_api.md): starts the
# real server on a free port and exercises every endpoint, the error paths, the
# bearer token, orders through the risk engine to the paper venue (filled when
# new bars reach the lake), and hot reload by /admin/reload and SIGHUP — also
# under load, where no request may fail or mix model versions. Every JSON
# answer is validated against its schema in docs/contracts/.
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is missing (scripts/setup.sh installs it)"; exit 77; }
VALIDATE="$ROOT/tests/contracts/validate.py"
LAKE="$WORK/lake"
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3  # Debian's, with python3-jsonschema
qq() { "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" -q "$@"; }

echo "== models: two Gatekeepers trained on different windows of generated WIN bars"
qq generate -s WIN --days 40 --seed 7 --out "$WORK/win16.csv" >/dev/null || { bad "generate"; finish; exit; }
# MT5 writes UTF-16LE; the importer reads UTF-8 as well, and text tools need it.
iconv -f UTF-16LE -t UTF-8 "$WORK/win16.csv" | sed '1s/^\xEF\xBB\xBF//' | tr -d '\r' >"$WORK/win.csv"
# Hold back the last day from 12:00 on: its first 30 bars are the "live" market
# that fills paper orders later (mid-session: entries are allowed at 12:00).
last_day=$(tail -n 1 "$WORK/win.csv" | cut -f1)
awk -F'\t' -v d="$last_day" 'NR == 1 || $1 < d || ($1 == d && $2 < "12:00")' "$WORK/win.csv" >"$WORK/win_history.csv"
{ head -n 1 "$WORK/win.csv"; awk -F'\t' -v d="$last_day" '$1 == d && $2 >= "12:00"' "$WORK/win.csv" | head -n 30; } \
  >"$WORK/win_live.csv"
qq ingest -f mt5-bars -s WIN "$WORK/win_history.csv" >/dev/null || { bad "ingest"; finish; exit; }
qq train -s WIN --to 2026-01-01 --out "$WORK/m1" >/dev/null 2>&1 || qq train -s WIN --out "$WORK/m1" >/dev/null 2>&1
split=$(qq lake query "select strftime(quantile_disc(ts, 0.6), '%Y-%m-%d') from bars_1m" | tail -1)
qq train -s WIN --to "$split" --out "$WORK/m2" >/dev/null 2>&1
[[ -f $WORK/m1/manifest.json && -f $WORK/m2/manifest.json ]] && ok "two model directories" || { bad "training failed"; finish; exit; }

# A registry in MLflow's file layout, written by `quant registry`: version 1 = m1,
# version 2 = m2, champion → 1; promotions and rollbacks below are the real ones.
REG="$WORK/mlruns"
reg() { q registry --registry "$REG" "$@" >/dev/null; }
champion() { echo "$1" >"$REG/models/gatekeeper/aliases/champion.tmp" && mv "$REG/models/gatekeeper/aliases/champion.tmp" "$REG/models/gatekeeper/aliases/champion"; }
reg register gatekeeper "$WORK/m1" && reg register gatekeeper "$WORK/m2" && reg promote gatekeeper 1 --reason "first" \
  && ok "two versions registered, version 1 promoted" || bad "quant registry could not register and promote"

echo "s3cret-$RANDOM$RANDOM" >"$WORK/token"
TOKEN=$(cat "$WORK/token")
sed '/^\[serve\]/,$d' "$ROOT/config/quant.toml" >"$WORK/quant.toml"
cat >>"$WORK/quant.toml" <<EOF
[serve]
port = 0
workers = 2
max_body_bytes = 16384
request_timeout_ms = 2000
[serve.paper]
symbols = ["WIN"]
poll_ms = 100
clock = "bars"
audit_log = "$WORK/audit.jsonl"
journal = "$WORK/desk.journal.jsonl"
[[serve.gates]]
name = "gatekeeper"
registry = "$REG"
alias = "champion"
p_min = 0.0
use_quantiles = false
[[serve.gates]]
name = "second"
dir = "$WORK/m2"
p_min = 0.0
EOF

echo "== start quant serve on a free port"
"$QUANT" --config "$WORK/quant.toml" --lake "$LAKE" serve --port-file "$WORK/port" --token-file "$WORK/token" \
  >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill -9 $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [[ -s $WORK/port ]] && break; sleep 0.1; done
[[ -s $WORK/port ]] || { bad "server did not start: $(cat "$WORK/serve.log")"; finish; exit; }
URL="http://127.0.0.1:$(cat "$WORK/port")"
expect_contains "$(cat "$WORK/serve.log")" "listening on $URL" "the server says where it listens"
if grep -q "$TOKEN" "$WORK/serve.log"; then bad "the token appears in the log"; else ok "the token is not logged"; fi

# call METHOD PATH [BODY] [curl args...] → sets STATUS, BODY, HEADERS
call() {
  local method=$1 path=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
  local args=(-s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" "$@")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  STATUS=$(curl "${args[@]}" "$URL$path")
  BODY=$(cat "$WORK/body"); HEADERS=$(cat "$WORK/headers")
}
schema() {  # name message: validates $BODY
  if printf '%s' "$BODY" | "$PY" "$VALIDATE" "$1" - >"$WORK/v.log" 2>&1; then ok "$2 (matches $1.schema.json)"; else bad "$2: $(cat "$WORK/v.log")"; fi
}
field() { printf '%s' "$BODY" | "$PY" -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }
AUTH=(-H "Authorization: Bearer $TOKEN")

echo "== health, readiness, models"
call GET /health; expect_eq "$STATUS" 200 "/health"; schema health_response "/health body"
call GET /ready; expect_eq "$STATUS" 200 "/ready"; schema health_response "/ready body"
call GET /models; expect_eq "$STATUS" 200 "/models"; schema models_response "/models body"
expect_eq "$(field "['gates'][0]['version']")" 1 "the champion alias resolves to version 1"
expect_eq "$(field "['gates'][1]['name']")" second "the chain lists the second gate after the first"
expect_eq "$(field "['gates'][0]['source']")" "registry:$REG/gatekeeper@champion" "the first gate comes from the registry"
NAMES=$(field "['gates'][0]['features']")

features() {  # value → a features object over the manifest's names
  "$PY" -c "import json,sys; print(json.dumps({n: float(sys.argv[2]) for n in json.loads(sys.argv[1].replace(\"'\", '\"'))}))" "$NAMES" "$1"
}
F1=$(features 0.1)

echo "== /infer"
call POST /infer "{\"features\": $F1, \"symbol\": \"WIN\"}"
expect_eq "$STATUS" 200 "chain answer"; schema infer_response "chain body"
expect_eq "$(field "['gates'].__len__()")" 2 "both gates evaluated (p_min 0)"
call POST /infer "{\"model\": \"gatekeeper\", \"features\": $F1}"
expect_eq "$STATUS" 200 "one model"; schema infer_response "single body"
echo "{\"model\": \"gatekeeper\", \"features\": $F1}" >"$WORK/infer_body.json"
V1=$(printf '%s' "$BODY")
call POST /infer "{\"model\": \"gatekeeper\", \"rows\": [$F1, $(features -0.2), $(features 0.5)]}"
expect_eq "$STATUS" 200 "batch"; schema infer_response "batch body"
expect_eq "$(field "['rows'].__len__()")" 3 "three rows answered"

echo "== /infer pass: the backtest's gate rule (second gate: [gate] use_quantiles = true)"
call GET /models
expect_eq "$(field "['gates'][0]['use_quantiles']"):$(field "['gates'][1]['use_quantiles']")" "False:True" \
  "/models shows each gate's rule ([[serve.gates]], else [gate])"
call POST /infer "{\"features\": $F1, \"symbol\": \"WIN\"}"
expect_eq "$(field "['gates'][0]['pass']"):$(field "['target']"):$(field "['stop']")" "True:100:None" \
  "a probability-only gate passes without a stop; WIN's target is [risk] target_points"
G2=$(field "['gates'][1]['pass']"):$(field "['gates'][1]['reason']")
if [[ $G2 == "None:no stop distance (give stop or atr)" || $G2 == False:q90* || $G2 == False:prob* ]]; then
  ok "a quantile gate without a stop is null (or false on what is known): $G2"
else
  bad "a quantile gate without a stop answered $G2"
fi
call POST /infer "{\"features\": $F1, \"symbol\": \"WIN\", \"atr\": 150}"
expect_eq "$STATUS:$(field "['stop']")" "200:300" "atr 150 × [risk] stop_atr_multiple 2 = stop 300"
schema infer_response "chain body with a stop"
expect_eq "$(field "['gates'][1]['pass'].__class__.__name__")" bool "with a stop every gate is decided"
call POST /infer "{\"features\": $F1, \"symbol\": \"WDO\", \"stop\": 10}"
expect_eq "$(field "['target']")" 5 "WDO's target comes from [risk.target_points_by_symbol]"
call POST /infer "{\"rows\": [$F1, $(features -0.2)], \"target\": 50, \"atr\": [100, 200]}"
expect_eq "$STATUS:$(field "['rows'][0]['stop'], d['rows'][1]['stop']")" "200:(200, 400)" "a batch takes one ATR per row"
schema infer_response "batch body with distances"
call POST /infer "{\"features\": $F1, \"atr\": -1}"
expect_eq "$STATUS:$(field "['field']")" "400:atr" "a negative atr is a 400 naming it"
call POST /infer "{\"rows\": [$F1], \"atr\": [1, 2]}"
expect_eq "$STATUS:$(field "['field']")" "400:atr" "an ATR array of the wrong length is a 400 naming it"
call POST /infer "{\"features\": $F1, \"target\": 1e999}"
expect_eq "$STATUS:$(field "['field']")" "400:target" "an out-of-range target is a 400 naming it"

echo "== /infer errors name the field"
FIRST=$("$PY" -c "import sys; print(eval(sys.argv[1])[0])" "$NAMES")
MISSING=$(printf '%s' "$F1" | "$PY" -c "import json,sys; d=json.load(sys.stdin); d.pop('$FIRST'); print(json.dumps(d))")
call POST /infer "{\"features\": $MISSING}"
expect_eq "$STATUS" 400 "missing feature"; schema error "missing feature body"
expect_eq "$(field "['field']")" "features.$FIRST" "the missing feature is named"
EXTRA=$(printf '%s' "$F1" | "$PY" -c "import json,sys; d=json.load(sys.stdin); d['bogus']=1; print(json.dumps(d))")
call POST /infer "{\"features\": $EXTRA}"
expect_eq "$STATUS:$(field "['field']")" "400:features.bogus" "extra feature named"
TEXT=$(printf '%s' "$F1" | "$PY" -c "import json,sys; d=json.load(sys.stdin); d['$FIRST']='high'; print(json.dumps(d))")
call POST /infer "{\"features\": $TEXT}"
expect_eq "$STATUS:$(field "['field']")" "400:features.$FIRST" "non-numeric feature named"
call POST /infer '{"features": {"x": 1e999}}'
expect_eq "$STATUS" 400 "non-finite number"
call POST /infer '{"features": '
expect_eq "$STATUS" 400 "truncated JSON"; schema error "invalid JSON body"
call POST /infer "{\"model\": \"nope\", \"features\": $F1}"
expect_eq "$STATUS:$(field "['field']")" "404:model" "unknown model: 404 naming model"
call POST /infer "{\"model\": \"gatekeeper\", \"version\": 7, \"features\": $F1}"
expect_eq "$STATUS:$(field "['field']")" "404:version" "a version that is not loaded"
call GET /infer
expect_eq "$STATUS" 405 "GET /infer"; expect_contains "$HEADERS" "Allow: POST" "405 says what is allowed"
call DELETE /models
expect_eq "$STATUS" 405 "DELETE /models"
call GET /nowhere
expect_eq "$STATUS" 404 "unknown path"
head -c 20000 /dev/zero | tr '\0' 'x' >"$WORK/big"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/big" "$URL/infer")
expect_eq "$STATUS" 413 "a body over max_body_bytes"

echo "== auth"
call POST /order '{}'
expect_eq "$STATUS" 401 "/order without a token"; expect_contains "$HEADERS" "WWW-Authenticate: Bearer" "401 names the scheme"
call POST /order '{}' -H "Authorization: Bearer wrong"
expect_eq "$STATUS" 401 "/order with a wrong token"
call POST /admin/reload '' -H "Authorization: Bearer ${TOKEN}x"
expect_eq "$STATUS" 401 "/admin/reload with a longer token"

echo "== /order through the risk engine to the paper venue"
ORDER='{"client_order_id":"it-1","symbol":"WIN","side":"buy","qty":2,"type":"market"}'
for _ in $(seq 1 50); do call POST /order "$ORDER" "${AUTH[@]}"; [[ $STATUS != 503 ]] && break; sleep 0.1; done
expect_eq "$STATUS" 200 "a market order"; schema order_response "order body"
expect_eq "$(field "['state']")" accepted "accepted by the paper venue"
expect_eq "$(field "['risk']['decision']")" accepted "the risk engine accepted it"
RISK_STOP=$(field "['risk']['stop_price']")
call POST /order "$ORDER" "${AUTH[@]}"
expect_eq "$STATUS:$(field "['replayed']"):$(field "['order_id']")" "200:True:1" "the same client_order_id replays the order"
call POST /order '{"client_order_id":"it-1","symbol":"WIN","side":"buy","qty":3,"type":"market"}' "${AUTH[@]}"
expect_eq "$STATUS:$(field "['field']")" "409:client_order_id" "the same id with another order: 409"
call POST /order '{"client_order_id":"it-2","symbol":"WIN","side":"hold","qty":1,"type":"market"}' "${AUTH[@]}"
expect_eq "$STATUS:$(field "['field']")" "400:side" "a bad side is named"
call POST /order '{"client_order_id":"it-3","symbol":"WIN","side":"buy","qty":1,"type":"limit","price":100001}' "${AUTH[@]}"
expect_eq "$STATUS:$(field "['field']")" "400:price" "an off-grid limit price is named"
call POST /order '{"client_order_id":"it-4","symbol":"PETR4","side":"buy","qty":1,"type":"market"}' "${AUTH[@]}"
expect_eq "$STATUS:$(field "['field']")" "400:symbol" "an unconfigured symbol is named"
call POST /order '{"client_order_id":"it-5","symbol":"WIN","side":"buy","qty":100000,"type":"market"}' "${AUTH[@]}"
expect_eq "$STATUS:$(field "['risk']['decision']")" "200:resized" "an order above the 1 % risk limit is resized"

echo "== new bars reach the lake: the paper venue fills at the next open + 1 tick"
qq ingest -f mt5-bars -s WIN "$WORK/win_live.csv" >/dev/null
OPEN=$(sed -n 2p "$WORK/win_live.csv" | cut -f3)
for _ in $(seq 1 100); do call POST /order "$ORDER" "${AUTH[@]}"; [[ $(field "['state']") == filled ]] && break; sleep 0.1; done
expect_eq "$(field "['state']")" filled "the order filled on the new bars"
expect_eq "$(field "['avg_fill_price']")" "$("$PY" -c "print(float($OPEN) + 5)")" "fill = next open ($OPEN) + 1 tick slippage"
schema order_response "filled order body"
[[ -n $RISK_STOP ]] && ok "risk stop $RISK_STOP set for the position"

echo "== hot reload: /admin/reload and SIGHUP pick up a promotion and a rollback"
reg promote gatekeeper 2 --reason "challenger beat the champion"
call POST /admin/reload '' "${AUTH[@]}"
expect_eq "$STATUS" 200 "/admin/reload"; schema reload_response "reload body"
expect_eq "$(field "['generation']")" 2 "generation 2"
call POST /infer "$(cat "$WORK/infer_body.json")"
expect_eq "$(field "['version']")" 2 "version 2 answers after the reload"
V2=$BODY
reg rollback gatekeeper --reason "back to version 1"
kill -HUP $SERVER
for _ in $(seq 1 50); do call GET /models; [[ $(field "['generation']") == 3 ]] && break; sleep 0.1; done
expect_eq "$(field "['generation']"):$(field "['gates'][0]['version']")" "3:1" "SIGHUP reloaded version 1"
champion 9
call POST /admin/reload '' "${AUTH[@]}"
expect_eq "$STATUS" 500 "a reload to a missing version fails"; schema error "failed reload body"
call POST /infer "$(cat "$WORK/infer_body.json")"
expect_eq "$STATUS:$(field "['version']")" "200:1" "the old models keep serving after a failed reload"
champion 1

echo "== reloads under load: no failed and no mixed-version request"
if [[ $(printf '%s' "$V1" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['prob'])") != \
      $(printf '%s' "$V2" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['prob'])") ]]; then
  ok "versions 1 and 2 give different answers (so a mixed answer would show)"
else
  bad "versions 1 and 2 answer alike: the mixed-version check would be blind"
fi
"$PY" -c "
import json,sys
v1=json.loads(sys.argv[1]); v2=json.loads(sys.argv[2])
json.dump({str(v['version']): {k: v[k] for k in ('prob','q10','q90')} for v in (v1, v2)}, open(sys.argv[3],'w'))" "$V1" "$V2" "$WORK/expected.json"
"$PY" "$ROOT/tests/serve/load_client.py" "$URL" "$WORK/infer_body.json" "$WORK/expected.json" "$WORK/stop" 8 >"$WORK/load.log" 2>&1 &
LOAD=$!
sleep 0.5
for i in $(seq 1 10); do
  champion $((i % 2 + 1))
  if ((i % 3 == 0)); then kill -HUP $SERVER; else curl -s -o /dev/null -X POST "${AUTH[@]}" "$URL/admin/reload"; fi
  sleep 0.2
done
touch "$WORK/stop"; wait $LOAD; load_status=$?
cat "$WORK/load.log"
expect_eq "$load_status" 0 "10 reloads under 8 connections: every answer 200 and from one version"
expect_contains "$(cat "$WORK/load.log")" "1:" "answers from version 1 seen"
expect_contains "$(cat "$WORK/load.log")" "2:" "answers from version 2 seen"

echo "== /metrics"
call GET /metrics
expect_contains "$BODY" 'quant_serve_requests_total{endpoint="/infer",status="200"}' "request counts by endpoint and status"
expect_contains "$BODY" 'quant_serve_requests_total{endpoint="transport",status="413"}' "the transport's own 413 counted"
expect_contains "$BODY" 'quant_serve_request_duration_seconds_bucket{endpoint="/infer"' "latency histogram"
expect_contains "$BODY" 'quant_serve_model_info{' "model version info"
expect_contains "$BODY" 'quant_serve_orders_total{decision="accepted"}' "orders by risk decision"

echo "== SIGTERM stops the server cleanly"
kill -TERM $SERVER; wait $SERVER; expect_status $? 0 "exit code 0 after SIGTERM"
expect_contains "$(cat "$WORK/serve.log")" "SIGTERM: stopping" "the server says why it stops"
expect_contains "$(cat "$WORK/serve.log")" "stopped: every request in flight was answered" "and that it drained"
finish
