#!/usr/bin/env bash
# End to end over FIX 4.4: quant replay --venue fix (market data through the
# bridge as the MT5 terminal sends it; orders taken by a QuickFIX acceptor in
# front of replay's Terminal, the simulated exchange) → quant bridge → Redis →
# quant live --venue fix (orders out over a QuickFIX initiator, execution
# reports back into the engine), in lock step. The orders must be exactly the
# backtest's; every FIX report is also in exec:fills for the logger; a kill -9
# of quant live mid-session is recovered from its journal and the exchange's
# FIX store (ResendRequest), and the orders are still the backtest's.
source "$(dirname "$0")/../cli/lib.sh"
start_redis || exit $?
REDIS=127.0.0.1:$QUANT_REDIS_PORT
source "$(dirname "$0")/live_lib.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; stop_redis; wait 2>/dev/null; [[ -n ${QUANT_KEEP:-} ]] && echo "kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

# start_live DIR: quant live --venue fix in the background; sets $live.
start_live() {
  qx live --symbols WIN --redis $REDIS --state "$1/live" --session F --from-start --venue fix \
    --fix-connect 127.0.0.1:$FIXPORT --fix-store "$1/fix_live" >>"$1/live.log" 2>&1 &
  live=$!
  PIDS+=($live)
}

echo "== a generated market over FIX: quant live sends exactly the backtest's orders"
LAKE=$WORK/lake
q generate -s WIN --days 6 --seed 21 --out "$WORK/win.csv" >/dev/null
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win.csv" >/dev/null
q backtest --lake "$LAKE" -s WIN --out "$WORK/bt" --no-report >/dev/null

# run NAME KILL LAKE [FROM TO]: bridge + replay (FIX exchange) + live; KILL=1 kills quant live -9 once
# mid-session and restarts it.
run() {
  local name=$1 kill_live=$2 lake=$3 dir=$WORK/$1 port range=()
  [[ -n ${4:-} ]] && range=(--from "$4" --to "$5")
  port=$(free_port)
  FIXPORT=$(free_port)
  mkdir -p "$dir"
  redis-cli -p "$QUANT_REDIS_PORT" FLUSHALL >/dev/null
  qx bridge --listen 127.0.0.1:$port --redis $REDIS >"$dir/bridge.log" 2>&1 &
  local bridge=$!
  PIDS+=($bridge)
  timeout 900 "$QUANT" --config "$ROOT/config/quant.toml" --lake "$lake" replay --symbols WIN "${range[@]}" \
    --connect 127.0.0.1:$port --lockstep --state "$dir/replay" --venue fix --fix-port $FIXPORT \
    --fix-store "$dir/fix_exchange" >"$dir/replay.log" 2>&1 &
  local replay=$!
  PIDS+=($replay)
  start_live "$dir"
  if [[ $kill_live == 1 ]]; then
    # Kill quant live once it has taken a good part of the fills, then start it again.
    for _ in $(seq 1 600); do
      n=$(redis-cli -p "$QUANT_REDIS_PORT" XLEN exec:fills)
      [[ ${n:-0} -ge 60 ]] && break
      sleep 0.1
    done
    kill -9 $live; wait $live 2>/dev/null
    echo "  (quant live killed -9 after $n exec:fills entries)"
    start_live "$dir"
  fi
  wait $replay
  local st=$?
  expect_status $st 0 "$name: the replay ran to the end in lock step over FIX"
  [[ $st -ne 0 ]] && tail -5 "$dir/replay.log" "$dir/live.log" "$dir/bridge.log"
  kill -TERM $live; wait $live; expect_status $? 0 "$name: quant live stops cleanly on SIGTERM"
  kill -TERM $bridge; wait $bridge
  expect_contains "$(cat "$dir/live.log")" "fix:" "$name: quant live prints its FIX summary"
  grep -E "^  fix:|recovered|FIX report" "$dir/live.log" | sed 's/^ */  | /'
}

run gen 0 "$LAKE"
out=$(compare_orders "$WORK/gen/live/orders.csv" "$WORK/bt/orders.csv"); st=$?
expect_status $st 0 "generated WIN over FIX: $out"
expect_eq "$(awk 'NR > 1' "$WORK/bt/orders.csv" | wc -l | awk '$1 > 20 {print "many"}')" many "the backtest sent enough orders to compare"
expect_contains "$(cat "$WORK/gen/replay.log")" "FIX acceptor B3SIM" "quant replay took the orders over FIX"

# Every fill the exchange reported is in exec:fills (the bridge's entry format, origin fix), once per exec_id.
fills=$(redis-cli -p "$QUANT_REDIS_PORT" --raw XRANGE exec:fills - + | python3 -c '
import sys, json
lines = sys.stdin.read().split("\n")
ids, dup, fix = set(), 0, 0
for i, l in enumerate(lines):
    if l == "origin" and lines[i + 1] == "fix":
        fix += 1
    if l.startswith("{\"type\":\"fill\""):
        e = json.loads(l)["exec_id"]
        dup += e in ids
        ids.add(e)
print(f"{len(ids)} fills, {dup} duplicates, {fix} fix entries")')
fills_replay=$(grep -o '[0-9]* fills' "$WORK/gen/replay.log" | tail -1)
expect_contains "$fills" "${fills_replay}, 0 duplicates" "exec:fills holds every FIX fill once (replay: $fills_replay; stream: $fills)"
expect_eq "$(grep -c '"k":"out"' "$WORK/gen/live/journal.jsonl" | awk '$1 > 0 {print "journaled"}')" journaled "orders journaled before they left over FIX"

echo "== kill -9 of quant live mid-session: journal + FIX resend, and still the backtest's orders"
run kill 1 "$LAKE"
out=$(compare_orders "$WORK/kill/live/orders.csv" "$WORK/bt/orders.csv"); st=$?
expect_status $st 0 "after a kill -9 over FIX: $out"
expect_contains "$(cat "$WORK/kill/live.log")" "recovered" "the restarted quant live recovered its journal"

echo "== real WIN bars over FIX, three weeks of 2021 without a breaker day: the same orders"
if have_data; then
  RLAKE=$WORK/real
  q ingest --lake "$RLAKE" -f mt5-bars -s WIN -q "$DATA/b3/WIN_N_M1_2020-11_2021-03.csv.gz" >/dev/null
  run real 0 "$RLAKE" 2021-02-05 2021-02-26
  q backtest --lake "$RLAKE" -s WIN --from 2021-02-05 --to 2021-02-26 --out "$WORK/real/bt" --no-report >/dev/null
  out=$(compare_orders "$WORK/real/live/orders.csv" "$WORK/real/bt/orders.csv"); st=$?
  expect_status $st 0 "real WIN 2021-02-05..26 over FIX: $out"
fi
finish
