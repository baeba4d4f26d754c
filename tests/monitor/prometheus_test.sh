#!/usr/bin/env bash
# A real Prometheus (Debian's 2.42) scrapes a running stack on a replay —
# quant serve (the gate's /infer), quant bridge, quant live (gated through
# /infer), quant logger (into a private ClickHouse) and quant replay in lock
# step — then every PromQL expression of config/grafana/dashboards/*.json and
# config/prometheus/rules.yml is evaluated through its HTTP API: each must
# return data. HaltRaised is made to fire (quant halt --set) and must show in
# /api/v1/alerts; every rule must be healthy in /api/v1/rules; promtool checks
# the configuration and the rules. Prometheus absent: skip (77), except under CI.
source "$(dirname "$0")/../cli/lib.sh"
for tool in prometheus promtool curl; do
  if ! command -v $tool >/dev/null 2>&1; then
    if [[ -n ${CI:-} ]]; then bad "$tool is not installed, and CI always has it"; finish; exit 1; fi
    echo "SKIP: $tool is not installed (scripts/setup.sh installs prometheus and curl)"
    exit 77
  fi
done
start_redis || exit $?
REDIS=127.0.0.1:$QUANT_REDIS_PORT
source "$ROOT/tests/live/live_lib.sh"
PIDS=()
CH_DIR=$WORK/clickhouse
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  bash "$ROOT/tests/clickhouse/server.sh" kill "$CH_DIR" >/dev/null 2>&1
  stop_redis; wait 2>/dev/null; rm -rf "$WORK"
}
trap cleanup EXIT
t0=$SECONDS

echo "== promtool: the shipped configuration and rules"
out=$(promtool check config "$ROOT/config/prometheus/prometheus.yml" 2>&1); expect_status $? 0 "promtool check config: $(echo "$out" | tail -1)"
out=$(promtool check rules "$ROOT/config/prometheus/rules.yml" 2>&1); expect_status $? 0 "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found' | head -1)"

echo "== a gate model and a lake of generated WIN bars"
LAKE=$WORK/lake
qq() { "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" -q "$@"; }
qq generate -s WIN --days 30 --seed 7 --out "$WORK/win.csv" >/dev/null
qq ingest -f mt5-bars -s WIN "$WORK/win.csv" >/dev/null
qq train -s WIN --out "$WORK/model" >"$WORK/train.log" 2>&1
[[ -f $WORK/model/manifest.json ]] && ok "trained a gate model" || { bad "quant train: $(tail -2 "$WORK/train.log")"; finish; exit 1; }
# The last four trading days (lock step: a few seconds a day).
FROM=$(qq lake query "select strftime(d, '%Y-%m-%d') from (select distinct cast(ts as date) d from bars_1m) order by d desc limit 1 offset 3" | tail -1)

echo "== the stack: ClickHouse, quant serve, bridge, live, logger; Prometheus scraping them every second"
CH_PORT=$(bash "$ROOT/tests/clickhouse/server.sh" start "$CH_DIR" 2>"$WORK/ch.err"); st=$?
if [[ $st -eq 77 ]]; then
  if [[ -n ${CI:-} ]]; then bad "clickhouse-server is not installed, and CI always has it"; finish; exit 1; fi
  echo "SKIP: clickhouse-server is not installed (scripts/setup.sh installs it)"; exit 77
fi
[[ $st -eq 0 ]] || { bad "clickhouse-server did not start: $(cat "$WORK/ch.err")"; finish; exit 1; }
SERVE=$(free_port) BRIDGE=$(free_port) M_BRIDGE=$(free_port) M_LIVE=$(free_port) M_LOGGER=$(free_port) PROM=$(free_port)
qx serve --port "$SERVE" --models "$WORK/model" >"$WORK/serve.log" 2>&1 & PIDS+=($!)
qx bridge --listen 127.0.0.1:$BRIDGE --redis $REDIS --metrics 127.0.0.1:$M_BRIDGE >"$WORK/bridge.log" 2>&1 & PIDS+=($!)
BRIDGE_PID=$!
qx live --symbols WIN --redis $REDIS --state "$WORK/live" --session M --from-start --gate "$WORK/model" \
  --infer-url "http://127.0.0.1:$SERVE/infer" --metrics 127.0.0.1:$M_LIVE >"$WORK/live.log" 2>&1 & PIDS+=($!)
LIVE_PID=$!
qx logger --redis $REDIS --clickhouse "http://127.0.0.1:$CH_PORT" --apply-schema --symbols WIN --batch-ms 100 \
  --metrics 127.0.0.1:$M_LOGGER >"$WORK/logger.log" 2>&1 & PIDS+=($!)

# The shipped scrape configuration with this test's ports and a 1 s interval; the shipped rules file.
python3 - "$ROOT/config/prometheus/prometheus.yml" "$WORK/prometheus.yml" "$ROOT/config/prometheus/rules.yml" \
  serve=$SERVE live=$M_LIVE bridge=$M_BRIDGE logger=$M_LOGGER <<'PY'
import sys, yaml
src, dst, rules = sys.argv[1:4]
ports = dict(a.split("=") for a in sys.argv[4:])
c = yaml.safe_load(open(src))
c["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
c["rule_files"] = [rules]
jobs = {j["job_name"]: j for j in c["scrape_configs"]}
missing = set(ports) - set(jobs)
assert not missing, f"no scrape job for {missing}"
c["scrape_configs"] = [jobs[name] for name in ports]  # the bot is not part of this test
for name, port in ports.items():
    jobs[name]["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
yaml.safe_dump(c, open(dst, "w"))
PY
out=$(promtool check config "$WORK/prometheus.yml" 2>&1); expect_status $? 0 "promtool check config (the test's copy)"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address=127.0.0.1:$PROM >"$WORK/prometheus.log" 2>&1 & PIDS+=($!)
API=http://127.0.0.1:$PROM/api/v1
for ((i = 0; i < 100; i++)); do
  curl -sf "http://127.0.0.1:$PROM/-/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PROM/-/ready" >/dev/null && ok "prometheus is ready" || { bad "prometheus did not start: $(tail -3 "$WORK/prometheus.log")"; finish; exit 1; }
# Every target scraped once before the replay starts: a counter's first
# increase must fall between two scrapes for rate() to see it.
for ((i = 0; i < 100; i++)); do
  up=$(curl -s "$API/query" --data-urlencode 'query=count(up == 1)' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
  [[ $up == 4 ]] && break
  sleep 0.2
done
expect_eq "$up" 4 "Prometheus scrapes serve, live, bridge and logger (up == 1)"

echo "== a lock-step replay of the last four days; risk:halt set once there are fills"
timeout 300 "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" replay --symbols WIN --from "$FROM" \
  --connect 127.0.0.1:$BRIDGE --lockstep --state "$WORK/replay" >"$WORK/replay.log" 2>&1 &
REPLAY=$!
PIDS+=($REPLAY)
# Halt once the live engine has filled something (the trading panels need fills first).
for ((i = 0; i < 600; i++)); do
  fills=$(curl -s "http://127.0.0.1:$M_LIVE/metrics" | awk '/^quant_live_fills_total/ {s += $2} END {print s + 0}')
  [[ $fills -ge 4 ]] && break
  kill -0 $REPLAY 2>/dev/null || break
  sleep 0.2
done
q halt --set --reason "prometheus test" --redis $REDIS >/dev/null
expect_status $? 0 "quant halt --set during the replay (after $fills fills)"
wait $REPLAY; st=$?
expect_status $st 0 "the replay ran to the end in lock step"
[[ $st -ne 0 ]] && tail -5 "$WORK/replay.log" "$WORK/live.log" "$WORK/bridge.log"
echo "  replay from $FROM: $(tail -1 "$WORK/replay.log")"
sleep 3  # the last scrapes after the replay
[[ -n ${KEEP_METRICS:-} ]] && curl -s "http://127.0.0.1:$M_LIVE/metrics" >"$KEEP_METRICS"

echo "== every dashboard and rule expression returns data"
python3 "$ROOT/tests/monitor/check_queries.py" "$API" "$ROOT/config/grafana/dashboards" "$ROOT/config/prometheus/rules.yml"
st=$?
expect_status $st 0 "every PromQL expression of the dashboards and rules returned data; HaltRaised fired"

echo "== the processes stop cleanly"
kill -TERM $LIVE_PID; wait $LIVE_PID; expect_status $? 0 "quant live stops on SIGTERM"
kill -TERM $BRIDGE_PID; wait $BRIDGE_PID; expect_status $? 0 "quant bridge stops on SIGTERM"
echo "($((SECONDS - t0)) s)"
finish
