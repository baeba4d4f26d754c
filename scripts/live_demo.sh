#!/usr/bin/env bash
# The live path, replayed end to end on this machine (no MetaTrader 5 needed):
#   quant replay (a simulated MT5 terminal: lake bars through the real bridge
#   protocol, fills like the backtest) → quant bridge (TCP ↔ Redis Streams) →
#   redis-server → quant live (the backtest's strategy, risk and order code on
#   the one trading kernel) → Redis → quant bridge → quant replay.
# The replay runs in lock step (each bar waits until the live engine has
# answered it), so the orders quant live sends must be exactly the orders
# quant backtest sends on the same bars: the demo checks it and writes the
# backtest's HTML report of the same window beside the live session's orders.
#
# DATA=path/to/mt5-export.csv replays your own bars (WIN); else a generated
# WIN-like market (8 sessions, not real prices).
set -euo pipefail
QUANT=$(readlink -f "${1:?usage: live_demo.sh path/to/quant [DATA]}")
DATA=${2:-}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/out/live-demo"
rm -rf "$OUT"; mkdir -p "$OUT"
q() { "$QUANT" --config "$ROOT/config/quant.toml" --lake "$OUT/lake" "$@"; }
qx() { exec "$QUANT" --config "$ROOT/config/quant.toml" --lake "$OUT/lake" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

command -v redis-server >/dev/null || { echo "live-demo: redis-server is missing: run make setup" >&2; exit 1; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

if [[ -n $DATA ]]; then
  INPUT=$DATA
  SOURCE="your MT5 export $(basename "$DATA")"
else
  INPUT="$OUT/WIN_generated_M1.csv"
  SOURCE="a generated WIN-like market (deterministic, seed 7, 8 sessions): not real prices"
  q generate -s WIN --days 8 --seed 7 --out "$INPUT" >/dev/null
fi
echo "== lake: $SOURCE"
q ingest -f mt5-bars -s WIN -q "$INPUT"

REDIS_PORT=$(free_port); BRIDGE_PORT=$(free_port)
echo "== redis-server on 127.0.0.1:$REDIS_PORT (its data in $OUT/redis; AOF, fsync always)"
mkdir -p "$OUT/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$OUT/redis" --appendonly yes --appendfsync always \
  --save "" --daemonize no --logfile "$OUT/redis/redis.log" &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1 && break; sleep 0.05; done

echo "== quant bridge on 127.0.0.1:$BRIDGE_PORT, quant live (journal in $OUT/live)"
qx bridge --listen 127.0.0.1:$BRIDGE_PORT --redis 127.0.0.1:$REDIS_PORT >"$OUT/bridge.log" 2>&1 &
PIDS+=($!)
qx live --symbols WIN --redis 127.0.0.1:$REDIS_PORT --state "$OUT/live" --session DEMO --from-start >"$OUT/live.log" 2>&1 &
LIVE=$!
PIDS+=($LIVE)

echo "== quant replay: the terminal replays every bar, in lock step with the live engine"
q replay --symbols WIN --connect 127.0.0.1:$BRIDGE_PORT --lockstep --state "$OUT/replay"
kill -TERM "$LIVE"; wait "$LIVE" || true
echo "== quant live"
cat "$OUT/live.log"

echo "== quant backtest on the same bars, for comparison (and the report)"
GEN=(); [[ -z $DATA ]] && GEN=(--generated-data)
q backtest -s WIN --out "$OUT/backtest" "${GEN[@]}" | sed -n "1,3p"
python3 - "$OUT/live/orders.csv" "$OUT/backtest/orders.csv" <<'PY'
import csv, sys
live = {int(r["cl_ord_id"].rsplit("-", 1)[1]): (r["side"], r["type"], int(r["qty"]), float(r["price"]), float(r["stop_price"])) for r in csv.DictReader(open(sys.argv[1]))}
bt = {int(r["id"]): (r["side"], r["type"], int(r["qty"]), float(r["limit_price"] or 0), float(r["stop_price"] or 0)) for r in csv.DictReader(open(sys.argv[2]))}
print(f"\nthe live session sent {len(live)} orders; the backtest {len(bt)}")
print(f"{'id':>5} {'side':5} {'type':7} {'qty':>4} {'price':>10} {'stop':>10}")
for k in sorted(live)[:12]:
    s, t, q, p, st = live[k]
    print(f"{k:>5} {s:5} {t:7} {q:>4} {p:>10g} {st:>10g}")
if len(live) > 12: print("  ...")
if live == bt:
    print("identical to the backtest's orders: same ids, sides, types, quantities and prices")
else:
    first = next(k for k in sorted(set(live) | set(bt)) if live.get(k) != bt.get(k))
    print(f"DIFFERENT from the backtest at order {first}: live {live.get(first)} vs backtest {bt.get(first)}")
    sys.exit(1)
PY
echo
echo "live orders:  $OUT/live/orders.csv   (journal: $OUT/live/journal.jsonl)"
echo "report:       $OUT/backtest/report.html"
