#!/usr/bin/env bash
# Fault tests of the live path: quant replay (lock step) → quant bridge → Redis
# → quant live and back, while one piece is killed (kill -9) and restarted
# over and over, Redis is restarted, or the terminal's connection is cut.
# Afterwards live must have sent exactly the backtest's orders, each once; every
# input must have been processed exactly once (one journal step each); the
# venue's positions must be live's.
#
# usage: live_faults_test.sh path/to/quant SCENARIO
#   SCENARIO: live | bridge | replay | redis | proxy | halt
# env: QUANT_FAULTS_KILLS (default 20), QUANT_FAULTS_SEED (default: random, printed),
#      QUANT_FAULTS_DAYS (default 6: ~150 orders, ~3,400 bars).
# The work directory is on tmpfs when there is one: a kill -9 keeps the page
# cache, so fsync (Redis's appendfsync always, the journals) costs nothing
# there, and on a disk it would make a session ~15x slower.
if [[ -z ${QUANT_FAULTS_TMP:-} && -d /dev/shm && -w /dev/shm ]]; then QUANT_FAULTS_TMP=/dev/shm; fi
[[ -n ${QUANT_FAULTS_TMP:-} ]] && export TMPDIR=$QUANT_FAULTS_TMP
source "$(dirname "$0")/../cli/lib.sh"
SCENARIO=${2:?usage: $0 path/to/quant live|bridge|replay|redis|proxy|halt}
HERE=$(cd "$(dirname "$0")" && pwd)
KILLS=${QUANT_FAULTS_KILLS:-20}
SEED=${QUANT_FAULTS_SEED:-$(( $(date +%s%N) % 1000000 ))}
DAYS=${QUANT_FAULTS_DAYS:-6}
DEADLINE=${QUANT_FAULTS_DEADLINE:-120}  # seconds for the session
echo "== fault scenario '$SCENARIO': seed $SEED (QUANT_FAULTS_SEED=$SEED reproduces the kill times), $KILLS faults"
RANDOM=$SEED

start_redis || exit $?
REDIS=127.0.0.1:$QUANT_REDIS_PORT
qx() { exec "$QUANT" --config "$ROOT/config/quant.toml" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
BRIDGE= LIVE= REPLAY= PROXY=
cleanup() {
  for p in $BRIDGE $LIVE $REPLAY $PROXY; do kill -9 "$p" 2>/dev/null; done
  stop_redis
  wait 2>/dev/null
  if [[ $failures -gt 0 && -n ${QUANT_FAULTS_KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A uniform random number of milliseconds in [lo, hi], as seconds for sleep.
rand_sleep() { local lo=$1 hi=$2 ms; ms=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1))); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }

# Redis again on the same port and directory (AOF, appendfsync always: nothing acknowledged is lost).
restart_redis() {
  kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
  sleep "$(rand_sleep 100 600)"
  redis-server --port "$QUANT_REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes --appendfsync always \
    --save "" --daemonize no --logfile "$WORK/redis/redis.log" &
  REDIS_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    [[ $(redis-cli -p "$QUANT_REDIS_PORT" PING 2>/dev/null) == PONG ]] && return 0
    sleep 0.05
  done
  bad "redis-server did not come back on port $QUANT_REDIS_PORT"
}

D=$WORK/s
mkdir -p "$D"
BPORT=$(free_port)
TPORT=$BPORT  # where the terminal connects (the proxy's port in the proxy scenario)
start_bridge() { qx bridge --listen 127.0.0.1:$BPORT --redis $REDIS >>"$D/bridge.log" 2>&1 & BRIDGE=$!; }
start_live() { qx live --symbols WIN --redis $REDIS --state "$D/live" --session F --from-start >"$D/live.out" 2>>"$D/live.log" & LIVE=$!; }
start_replay() {
  qx --lake "$LAKE" replay --symbols WIN --connect 127.0.0.1:$TPORT --lockstep --state "$D/replay" \
    >"$D/replay.out" 2>>"$D/replay.log" & REPLAY=$!
}
# A TCP proxy between the terminal and the bridge; SIGUSR1 cuts every connection through it.
start_proxy() {
  python3 -u - "$TPORT" "$BPORT" >>"$D/proxy.log" 2>&1 <<'PY' & PROXY=$!
import signal, socket, sys, threading
listen, target = int(sys.argv[1]), int(sys.argv[2])
conns, lock = [], threading.Lock()
def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def cut(*_):
    with lock:
        print(f"proxy: cutting {len(conns)} socket(s)", flush=True)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        conns.clear()
signal.signal(signal.SIGUSR1, cut)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen))
srv.listen(4)
while True:
    try:
        c, _ = srv.accept()
    except InterruptedError:
        continue
    try:
        u = socket.create_connection(("127.0.0.1", target))
    except OSError:
        c.close()
        continue
    with lock:
        conns.extend([c, u])
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
}
replay_running() { kill -0 "$REPLAY" 2>/dev/null && ! grep -q "connection(s)" "$D/replay.out" 2>/dev/null; }
replay_status=
wait_replay() {  # until the replay exits or the deadline passes; sets replay_status
  while kill -0 "$REPLAY" 2>/dev/null && ((SECONDS < END)); do sleep 0.2; done
  if kill -0 "$REPLAY" 2>/dev/null; then
    bad "the replay did not finish within ${DEADLINE}s"
    kill -9 "$REPLAY"
  fi
  wait "$REPLAY"
  replay_status=$?
}

echo "-- the market: quant generate -s WIN --days $DAYS, and the backtest's orders on it"
LAKE=$WORK/lake
q generate -s WIN --days "$DAYS" --seed 21 --out "$WORK/win.csv" >/dev/null
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$WORK/win.csv" >/dev/null
q backtest --lake "$LAKE" -s WIN --out "$WORK/bt" --no-report >/dev/null
BARS=$(($(wc -l <"$WORK/win.csv") - 1))
BT_ORDERS=$(($(wc -l <"$WORK/bt/orders.csv") - 1))
echo "   $BARS bars, $BT_ORDERS backtest orders"
[[ $BT_ORDERS -ge 100 ]] || bad "the backtest sent only $BT_ORDERS orders (< 100): too few to compare"

if [[ $SCENARIO == proxy ]]; then TPORT=$(free_port); start_proxy; fi
start_bridge
start_live
start_replay
END=$((SECONDS + DEADLINE))
faults=0
MODE=full
started=$SECONDS
case $SCENARIO in
  live | bridge | replay)
    while ((faults < KILLS)) && replay_running && ((SECONDS < END)); do
      sleep "$(rand_sleep 80 450)"
      replay_running || break
      case $SCENARIO in
        live) kill -9 "$LIVE"; wait "$LIVE" 2>/dev/null; start_live ;;
        bridge) kill -9 "$BRIDGE"; wait "$BRIDGE" 2>/dev/null; sleep "$(rand_sleep 0 300)"; start_bridge ;;
        replay)
          kill -9 "$REPLAY"; wait "$REPLAY" 2>/dev/null
          [[ $? -eq 0 ]] && break  # it had just finished
          start_replay ;;
      esac
      faults=$((faults + 1))
    done
    ;;
  redis)
    while ((faults < KILLS)) && replay_running && ((SECONDS < END)); do
      sleep "$(rand_sleep 250 900)"
      replay_running || break
      restart_redis
      faults=$((faults + 1))
    done
    ;;
  proxy)
    while ((faults < KILLS)) && replay_running && ((SECONDS < END)); do
      sleep "$(rand_sleep 200 1200)"
      replay_running || break
      kill -USR1 "$PROXY"
      faults=$((faults + 1))
    done
    ;;
  halt)
    MODE=halt
    # Mid-session: after a third of the backtest's orders went out.
    while replay_running && ((SECONDS < END)); do
      n=$(grep -c '"order_new' "$D/live/journal.jsonl" 2>/dev/null)
      ((n >= BT_ORDERS / 3)) && break
      sleep 0.2
    done
    out=$(q halt --set --reason "fault test" --redis $REDIS 2>&1); expect_status $? 0 "quant halt --set: $out"
    sleep 1
    restart_redis
    flag=$(redis-cli -p "$QUANT_REDIS_PORT" HGETALL risk:halt | tr '\n' ' ')
    expect_contains "$flag" "fault test" "risk:halt outlives a kill -9 of Redis"
    kill -9 "$LIVE"; wait "$LIVE" 2>/dev/null; start_live
    faults=1
    ;;
  *) bad "unknown scenario '$SCENARIO'"; exit 1 ;;
esac
wait_replay
echo "   $faults fault(s) ($SCENARIO) in $((SECONDS - started)) s of session"
expect_status "$replay_status" 0 "the replay ran to the end"
if [[ $replay_status -ne 0 ]]; then tail -n 5 "$D/replay.log" "$D/live.log" "$D/bridge.log"; fi
# Live drains what is left, then stops (orders.csv is written at exit).
sleep 1
kill -TERM "$LIVE"; wait "$LIVE"; expect_status $? 0 "quant live stops cleanly on SIGTERM"
if [[ $SCENARIO == halt ]]; then
  expect_contains "$(cat "$D/live.out")" "HALTED" "the restarted quant live reports it is halted"
  expect_contains "$(cat "$D/live.log")" "risk:halt is set" "quant live saw the flag"
  # An entry now: the bridge refuses it (live is stopped, so its ids cannot collide).
  redis-cli -p "$QUANT_REDIS_PORT" XADD exec:orders '*' type order msg \
    '{"type":"order_new","seq":1,"t_ms":0,"cl_ord_id":"ZWIN-1","symbol":"WIN","side":"buy","ord_type":"market","tif":"day","purpose":"entry","qty":1,"price":0,"stop_price":0}' >/dev/null
  sleep 1.5
  expect_contains "$(cat "$D/bridge.log")" "rejected: risk:halt is set" "the bridge rejects entries while risk:halt is set"
fi
kill -TERM "$BRIDGE"; wait "$BRIDGE"
[[ -n $PROXY ]] && { kill "$PROXY"; wait "$PROXY" 2>/dev/null; PROXY=; }
BRIDGE= LIVE= REPLAY=

while read -r verdict what; do
  case $verdict in
    OK) ok "$what" ;;
    BAD) bad "$what" ;;
    *) echo "   $what" ;;
  esac
done < <(python3 "$HERE/faults_check.py" "$D" "$WORK/bt/orders.csv" "$BARS" "$QUANT_REDIS_PORT" "$MODE" 2>&1 ||
  echo "BAD faults_check.py failed")
echo "   live: $(grep -c "live: trading [0-9]" "$D/live.log") start(s), $(grep -c 'torn\|cut by a crash' "$D/live.log") torn journal(s); " \
  "bridge: $(grep -c 'listening on' "$D/bridge.log") start(s); replay: $(grep -c 'connection lost\|send failed' "$D/replay.log") lost connection(s)"
finish
