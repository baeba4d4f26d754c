# What the live end-to-end tests share (sourced after tests/cli/lib.sh).
# qx: like q, for a background job: `qx ... &` makes $! the quant process itself (a signal reaches it).
qx() { exec "$QUANT" --config "$ROOT/config/quant.toml" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# compare_orders LIVE_CSV BACKTEST_CSV: id,side,type,qty,price,stop of every order.
compare_orders() {
  python3 - "$1" "$2" <<'PY'
import csv, sys
live = {}
for r in csv.DictReader(open(sys.argv[1])):
    live[int(r["cl_ord_id"].rsplit("-", 1)[1])] = (r["side"], r["type"], int(r["qty"]), float(r["price"]), float(r["stop_price"]))
bt = {}
for r in csv.DictReader(open(sys.argv[2])):
    bt[int(r["id"])] = (r["side"], r["type"], int(r["qty"]), float(r["limit_price"] or 0), float(r["stop_price"] or 0))
if live == bt:
    print(f"identical: {len(bt)} orders")
    sys.exit(0)
for k in sorted(set(live) | set(bt)):
    if live.get(k) != bt.get(k):
        print(f"order {k}: live {live.get(k)} vs backtest {bt.get(k)} ({len(live)} live, {len(bt)} backtest orders)")
        break
sys.exit(1)
PY
}
