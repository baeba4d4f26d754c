#!/usr/bin/env bash
# quant logger under kill -9: while logger_feed publishes ticks, fills (and
# order acks), live-style metrics and malformed entries into a private
# redis-server, the logger is killed with SIGKILL at random moments and
# started again, many times; once, clickhouse-server itself is killed and
# restarted mid-run. At the end every message is in ClickHouse exactly once
# after FINAL (count per table = what was published, no key twice, the ticks'
# bid sum), nothing is pending in the group, and SIGTERM flushes and exits 0.
# QUANT_LOGGER_KILLS (default 25) sets how many kills; QUANT_LOGGER_SEED the
# random kill times (printed, so a run can be reproduced).
# Usage: logger_kill_test.sh path/to/quant path/to/logger_feed
source "$(dirname "$0")/../cli/lib.sh"
FEED=$(readlink -f "${2:?usage: $0 quant logger_feed}")
KILLS=${QUANT_LOGGER_KILLS:-25}
SEED=${QUANT_LOGGER_SEED:-$$}
RANDOM=$SEED
echo "seed $SEED, $KILLS kills"

CH_DIR="$WORK/clickhouse"
if ! bash "$ROOT/tests/clickhouse/server.sh" start "$CH_DIR" >"$WORK/ch.port" 2>"$WORK/ch.err"; then
  st=$?
  if [[ $st -eq 77 ]]; then
    if [[ -n ${CI:-} ]]; then echo "FAIL: clickhouse-server is not installed, and CI always has it"; exit 1; fi
    echo "SKIP: clickhouse-server is not installed (scripts/setup.sh installs it)"
    exit 77
  fi
  echo "FAIL: clickhouse-server did not start: $(cat "$WORK/ch.err")"
  exit 1
fi
CH="http://127.0.0.1:$(cat "$WORK/ch.port")"
start_redis; st=$?
[[ $st -eq 77 ]] && { bash "$ROOT/tests/clickhouse/server.sh" kill "$CH_DIR"; exit 77; }
[[ $st -ne 0 ]] && { finish; exit 1; }
trap 'kill -9 "${STARTED[@]}" $FEED_PID 2>/dev/null; bash "$ROOT/tests/clickhouse/server.sh" kill "$CH_DIR"; stop_redis; rm -rf "$WORK"' EXIT
R="127.0.0.1:$QUANT_REDIS_PORT"
chq() { curl -sS "$CH/?database=quant" --data-binary "$1 FORMAT TabSeparated"; }
# No background merges: the copies that re-inserts leave stay visible next to FINAL's count.
stop_merges() { curl -sS "$CH/" --data-binary "SYSTEM STOP MERGES" >/dev/null || bad "SYSTEM STOP MERGES failed"; }
stop_merges
SYMBOLS=S000,S001,S002,S003,S004,S005,S006,S007,S008,S009
LOGGER=
STARTED=()
run_logger() {  # quant itself in the background (not a subshell: the kills must hit it); output appended
  "$QUANT" --config "$ROOT/config/quant.toml" logger --redis "$R" --clickhouse "$CH" --database quant \
    --symbols "$SYMBOLS" --apply-schema --batch-rows 500 --batch-ms 50 --progress 1 \
    >>"$WORK/logger.out" 2>>"$WORK/logger.log" &
  LOGGER=$!
  STARTED+=("$LOGGER")
}

echo "== feed: 10 symbols x 100 Hz for 20 s (fills, acks, metrics, malformed entries) while the logger is killed"
"$FEED" --port "$QUANT_REDIS_PORT" --symbols 10 --hz 100 --seconds 20 --fill-every 37 --metrics-every 101 \
  --malformed-every 997 >"$WORK/feed.out" 2>"$WORK/feed.err" &
FEED_PID=$!
kills=0
ch_restarted=0
while kill -0 "$FEED_PID" 2>/dev/null && ((kills < KILLS)); do
  run_logger
  # 0.05 .. 1.2 s: sometimes before the first insert, sometimes mid-batch, sometimes between batches.
  sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
  sleep "$(printf '0.%03d' $((RANDOM % 200 + 50)))"
  if ((kills == KILLS / 2 && ch_restarted == 0)); then
    echo "  clickhouse-server: kill -9 and restart with the logger running"
    bash "$ROOT/tests/clickhouse/server.sh" kill "$CH_DIR"
    sleep 1
    bash "$ROOT/tests/clickhouse/server.sh" start "$CH_DIR" >/dev/null || bad "clickhouse-server restart failed"
    stop_merges
    ch_restarted=1
    sleep 0.5
  fi
  [[ $(ps -o comm= -p "$LOGGER") == quant ]] || bad "pid $LOGGER is not quant logger (exited early?): $(tail -3 "$WORK/logger.log")"
  kill -9 "$LOGGER" 2>/dev/null
  wait "$LOGGER" 2>/dev/null
  kills=$((kills + 1))
done
wait "$FEED_PID"
expect_status $? 0 "the feed ran"
read -r _ ticks trades metrics rejects skipped bid_sum _ < "$WORK/feed.out"
ticks=${ticks#ticks=}; trades=${trades#trades=}; metrics=${metrics#metrics=}; rejects=${rejects#rejects=}
skipped=${skipped#skipped=}; bid_sum=${bid_sum#bid_sum=}
echo "  $kills kills of quant logger (SIGKILL), clickhouse-server killed and restarted $ch_restarted time(s)"
echo "  published: ticks $ticks, trades $trades, metrics $metrics, malformed $rejects, acks $skipped"
((kills >= KILLS || kills >= 10)) && ok "killed the logger $kills times" || bad "only $kills kills happened"
expect_eq "$ch_restarted" 1 "clickhouse-server restarted mid-run"

echo "== a last logger catches up; SIGTERM flushes and exits 0"
run_logger
total=$((ticks + trades + metrics + rejects))
for ((i = 0; i < 600; i++)); do
  got=$(chq "SELECT (SELECT count() FROM ticks FINAL) + (SELECT count() FROM trades FINAL) + (SELECT count() FROM metrics FINAL) + (SELECT count() FROM rejects FINAL)" 2>/dev/null)
  pending=$(redis-cli -p "$QUANT_REDIS_PORT" xpending exec:fills logger | head -1)
  [[ $got == "$total" && $pending == 0 ]] && break
  sleep 0.1
done
kill -TERM "$LOGGER"
wait "$LOGGER"
expect_status $? 0 "SIGTERM: exit 0"
expect_contains "$(tail -1 "$WORK/logger.out")" "stopped by SIGTERM" "summary line"

echo "== stored rows (merges stopped): the copies of re-inserted batches"
raw=$(chq 'SELECT (SELECT count() FROM ticks) + (SELECT count() FROM trades) + (SELECT count() FROM metrics) + (SELECT count() FROM rejects)')
redelivered=$(grep -o '[0-9]* entries were delivered before and never acknowledged' "$WORK/logger.log" | awk '{s += $1} END {print s + 0}')
echo "  rows stored: $raw for $total messages, so $((raw - total)) copies inserted twice by loggers killed between"
echo "  an insert and its XACK, which FINAL collapses (the restarts found $redelivered pending entries, summed)"
((raw >= total)) && ok "nothing lost before FINAL either" || bad "fewer rows stored ($raw) than messages ($total)"
# FINAL over thousands of unmerged parts needs GiBs on 18.16 (the merges keep parts few in production).
curl -sS "$CH/" --data-binary "SYSTEM START MERGES" >/dev/null
for t in ticks trades metrics rejects; do chq "OPTIMIZE TABLE $t FINAL" >/dev/null || bad "OPTIMIZE $t"; done

echo "== exactly once after FINAL"
expect_eq "$(chq 'SELECT count() FROM ticks FINAL')" "$ticks" "ticks: one row per published tick"
expect_eq "$(chq 'SELECT count() FROM trades FINAL')" "$trades" "trades: one row per fill (acks are not trades)"
expect_eq "$(chq 'SELECT count() FROM metrics FINAL')" "$metrics" "metrics: one row per entry"
expect_eq "$(chq 'SELECT count() FROM rejects FINAL')" "$rejects" "rejects: every malformed entry, kept"
expect_eq "$(chq 'SELECT count() - uniqExact(symbol, ts_ms, stream_ms, stream_seq) FROM ticks FINAL')" 0 "no tick key twice"
expect_eq "$(chq 'SELECT count() - uniqExact(exec_id) FROM trades FINAL')" 0 "no exec_id twice"
expect_eq "$(chq 'SELECT toUInt64(sum(bid)) FROM ticks FINAL')" "$bid_sum" "the ticks' contents (sum of bids)"
expect_eq "$(chq "SELECT uniqExact(ts_ms) FROM ticks FINAL")" "$ticks" "every tick time once"
expect_eq "$(chq 'SELECT count() FROM ticks')" "$ticks" "after OPTIMIZE ... FINAL the merge alone removed every copy"
for s in $(echo "$SYMBOLS" | tr , ' ') exec:fills mon:metrics; do
  key=$s; [[ $s == S* ]] && key="md:tick:$s"
  p=$(redis-cli -p "$QUANT_REDIS_PORT" xpending "$key" logger | head -1)
  [[ $p == 0 ]] || bad "$key: $p entries still pending in group logger"
done
ok "nothing pending in the group logger"
alive=0
for p in "${STARTED[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
expect_eq "$alive" 0 "every logger started is gone (killed, or stopped by SIGTERM)"
grep -q "rejected md:tick:S000" "$WORK/logger.log" && ok "malformed entries logged with their stream id" || bad "no reject logged"
finish
