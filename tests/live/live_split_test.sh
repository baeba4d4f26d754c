#!/usr/bin/env bash
# Two live engines on one hub and one terminal, the symbols split between them
# (src/live/README.md, "Several engines"): quant replay (WIN and WDO, lock
# step) → one quant bridge → Redis → engine W (WIN; group signal-WIN, orders
# exec:orders:W) and engine D (WDO; group signal-WDO, orders exec:orders:D).
# Each engine's orders must be the one-symbol backtest's (each engine is its own
# account: the union of the two is what two one-symbol backtests send), only
# for its symbol, each once; no fill applied twice; a kill -9 of D mid-session
# and its restart recover D from its journal while W runs on untouched; an
# overlapping engine is refused naming the holder; risk:halt halts both.
source "$(dirname "$0")/../cli/lib.sh"
start_redis || exit $?
REDIS=127.0.0.1:$QUANT_REDIS_PORT
source "$(dirname "$0")/live_lib.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; stop_redis; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
rc() { redis-cli -p "$QUANT_REDIS_PORT" "$@"; }

echo "== a generated WIN and WDO market, and the backtest of each symbol alone"
LAKE=$WORK/lake
for sym in WIN WDO; do
  seed=21; [[ $sym == WDO ]] && seed=22
  q generate -s $sym --days 4 --seed $seed --out "$WORK/$sym.csv" >/dev/null
  q ingest --lake "$LAKE" -f mt5-bars -s $sym -q "$WORK/$sym.csv" >/dev/null
  q backtest --lake "$LAKE" -s $sym --out "$WORK/bt_$sym" --no-report >/dev/null
done
expect_eq "$(awk 'NR > 1' "$WORK/bt_WIN/orders.csv" | wc -l | awk '$1 > 20 {print "many"}')" many "the WIN backtest sent enough orders to compare"
expect_eq "$(awk 'NR > 1' "$WORK/bt_WDO/orders.csv" | wc -l | awk '$1 > 20 {print "many"}')" many "the WDO backtest sent enough orders to compare"

# engine NAME SYMBOL: one engine of the split (appends to $WORK/NAME.log); $! is its pid.
engine() {
  qx live --symbols "$2" --redis $REDIS --state "$WORK/$1" --session "$1" --group "signal-$2" \
    --orders "exec:orders:$1" --from-start >>"$WORK/$1.log" 2>&1
}

echo "== one bridge, two engines, a lock-step replay of both symbols"
port=$(free_port)
qx bridge --listen 127.0.0.1:$port --redis $REDIS >"$WORK/bridge.log" 2>&1 & BRIDGE=$!; PIDS+=($BRIDGE)
engine W WIN & W=$!; PIDS+=($W)
engine D WDO & D=$!; PIDS+=($D)
timeout 300 "$QUANT" --config "$ROOT/config/quant.toml" --lake "$LAKE" replay --symbols WIN,WDO \
  --connect 127.0.0.1:$port --lockstep --state "$WORK/replay" >"$WORK/replay.log" 2>&1 & REPLAY=$!; PIDS+=($REPLAY)

# journaled NAME: order messages in the engine's journal so far.
journaled() { local n; n=$(grep -c '"k":"out"' "$WORK/$1/journal.jsonl" 2>/dev/null); echo "${n:-0}"; }

echo "== while both run: an engine that would overlap is refused, naming what is held and by whom"
for _ in $(seq 100); do [[ $(journaled W) -gt 0 && $(journaled D) -gt 0 ]] && break; sleep 0.1; done
refused() {  # message needle args...
  local msg=$1 needle=$2 out st; shift 2
  out=$(timeout 20 "$QUANT" --config "$ROOT/config/quant.toml" live --redis $REDIS --from-start "$@" 2>&1); st=$?
  expect_eq "$st" 1 "$msg: refused"
  expect_contains "$out" "$needle" "$msg: says why"
}
refused "WIN again (another session)" "symbol WIN is held by the engine W@" \
  --symbols WIN,IND --state "$WORK/X" --session X --group signal-X --orders exec:orders:X
refused "W's state directory" "another quant live runs with --state $WORK/W" \
  --symbols IND --state "$WORK/W" --session X --group signal-X --orders exec:orders:X
refused "W's consumer group" "consumer group signal-WIN is held by the engine W@" \
  --symbols IND --state "$WORK/X" --session X --group signal-WIN --orders exec:orders:X
refused "W's order stream" "order stream exec:orders:W is held by the engine W@" \
  --symbols IND --state "$WORK/X" --session X --group signal-X --orders exec:orders:W
refused "session W from another directory" "session W is held by the engine W@" \
  --symbols IND --state "$WORK/X" --session W --group signal-X --orders exec:orders:X
expect_eq "$(rc EXISTS live:symbol:IND)" 0 "a refused engine takes none of its leases (all or none)"
expect_eq "$(rc GET live:symbol:WDO)" "D@$(hostname):$WORK/D" "WDO's lease names engine D"

echo "== kill -9 of engine D mid-session, and its restart"
d_total=$(awk 'NR > 1' "$WORK/bt_WDO/orders.csv" | wc -l)
for _ in $(seq 600); do (($(journaled D) >= d_total / 3)) && break; sleep 0.1; done
expect_eq "$(($(journaled D) >= d_total / 3))" 1 "D sent a third of its orders before the kill"
kill -9 $D; wait $D 2>/dev/null
sleep 0.5
w_before=$(journaled W)
engine D WDO & D=$!; PIDS+=($D)

wait $REPLAY; st=$?
expect_status $st 0 "the replay ran to the end in lock step"
[[ $st -ne 0 ]] && tail -5 "$WORK/replay.log" "$WORK/W.log" "$WORK/D.log" "$WORK/bridge.log"

echo "== risk:halt halts both engines"
q halt --set --reason "split test" --redis $REDIS >/dev/null
halted() { local n; n=$(grep -c '"t":"halt"' "$WORK/$1/journal.jsonl" 2>/dev/null); echo "${n:-0}"; }
for _ in $(seq 50); do [[ $(halted W) -gt 0 && $(halted D) -gt 0 ]] && break; sleep 0.1; done
expect_eq "$(halted W) $(halted D)" "1 1" "both journals hold the halt"
kill -TERM $W; wait $W; expect_status $? 0 "engine W stops cleanly on SIGTERM"
kill -TERM $D; wait $D; expect_status $? 0 "engine D stops cleanly on SIGTERM"
kill -TERM $BRIDGE; wait $BRIDGE
expect_contains "$(cat "$WORK/W.log")" "HALTED" "W ends halted"
expect_contains "$(cat "$WORK/D.log")" "HALTED" "D ends halted"
q halt --clear --redis $REDIS >/dev/null
expect_eq "$(rc EXISTS live:symbol:WIN live:symbol:WDO live:session:W live:session:D)" 0 "a clean stop releases the leases"
refused "W's journal with another order stream" "sent its orders to exec:orders:W, not exec:orders:Q" \
  --symbols WIN --state "$WORK/W" --session W --group signal-WIN --orders exec:orders:Q
expect_eq "$(rc SISMEMBER exec:order-streams exec:orders:Q) $(rc EXISTS live:symbol:WIN)" "0 0" \
  "... before registering that stream, and its leases are released"

echo "== each engine: its backtest's orders, its symbol only, each once; no fill applied twice"
expect_eq "$(grep -c 'live: recovered' "$WORK/W.log")" 0 "W was never restarted"
expect_contains "$(cat "$WORK/D.log")" "live: recovered" "D recovered its journal after the kill"
expect_eq "$(grep -c 'differ from the books' "$WORK/W.log" "$WORK/D.log" | awk -F: '{s += $2} END {print s}')" 0 \
  "no positions snapshot differed from an engine's books (each compares its own symbols)"
out=$(compare_orders "$WORK/W/orders.csv" "$WORK/bt_WIN/orders.csv"); expect_status $? 0 "W (WIN) = the WIN backtest: $out"
out=$(compare_orders "$WORK/D/orders.csv" "$WORK/bt_WDO/orders.csv"); expect_status $? 0 "D (WDO), killed and restarted = the WDO backtest: $out"
expect_eq "$(rc XLEN exec:orders)" 0 "nothing in the single-engine stream exec:orders"
expect_eq "$(rc SMEMBERS exec:order-streams | sort | tr '\n' ' ')" "exec:orders:D exec:orders:W " "both order streams registered for the bridge"
expect_contains "$(cat "$WORK/bridge.log")" "reading the order streams exec:orders, exec:orders:D, exec:orders:W" "the bridge read both"
for name in W D; do
  expected=WIN; [[ $name == D ]] && expected=WDO
  out=$(rc XRANGE "exec:orders:$name" - + | python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
news = [json.loads(lines[i + 1]) for i, l in enumerate(lines) if l == "msg" and "\"order_new\"" in lines[i + 1]]
ids = [m["cl_ord_id"] for m in news]
syms = sorted({m["symbol"] for m in news})
print(len(ids), len(set(ids)), ",".join(syms), all(i.startswith(sys.argv[1] + sys.argv[2] + "-") for i in ids))
' "$name" "$expected")
  rows=$(awk 'NR > 1' "$WORK/$name/orders.csv" | wc -l)
  expect_eq "$out" "$rows $rows $expected True" "exec:orders:$name: every order of $name once, all $expected, ids $name$expected-<n>"
  out=$(python3 - "$WORK/$name/journal.jsonl" "$expected" <<'PY'
import json, sys
execs, syms = [], set()
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j.get("k") == "step" and j.get("t") == "report":
        m = json.loads(j["msg"])
        syms.add(m["symbol"])
        if m["type"] == "fill":
            execs.append(m["exec_id"])
print(len(execs) > 0, len(execs) == len(set(execs)), ",".join(sorted(syms)))
PY
)
  expect_eq "$out" "True True $expected" "$name's journal: fills applied once each, reports of $expected only"
done
expect_eq "$(($(journaled W) > w_before))" 1 "W kept trading after D's kill ($w_before orders before it, $(journaled W) at the end)"
finish
