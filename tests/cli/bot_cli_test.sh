#!/usr/bin/env bash
# End-to-end tests of `quant bot`: --help, configuration errors, and a real run
# against a private redis-server and the local Bot API stand-in
# (src/bot/telegram_stand_in.py) — commands, the allow-list, HTTP errors — with
# a known token that must appear nowhere: not on stdout, stderr, in the logs
# nor in the state file.
source "$(dirname "$0")/lib.sh"
TOKEN="424242:AAcliSECRET-token_do-not-print"
unset QUANT_TELEGRAM_TOKEN

echo "== --help"
out=$(q bot --help 2>&1); st=$?
expect_status $st 0 "bot --help"
for flag in --redis --token-file --api-url --state-file --rounds; do expect_contains "$out" "$flag" "help lists $flag"; done
expect_contains "$out" "docs/telegram.md" "help points to the guide"

# A self-contained configuration: one instrument trading around the clock (UTC).
write_config() {  # file, extra [telegram] lines
  cat >"$1" <<TOML
[instruments.BTCUSDT]
description = "test instrument, around the clock"
asset_class = "crypto"
exchange = "TEST"
currency = "USDT"
tick_size = 0.1
point_value = 1.0
lot_step = 1
min_lot = 1
time_zone = "UTC"
session = { open = "00:00", close = "00:00" }
weekdays = [0, 1, 2, 3, 4, 5, 6]

[telegram]
$2
TOML
}

echo "== configuration errors"
write_config "$WORK/token.toml" "token = \"$TOKEN\""
out=$(QUANT_TELEGRAM_TOKEN=$TOKEN "$QUANT" --config "$WORK/token.toml" bot 2>&1); st=$?
expect_status $st 1 "a token in the config is refused"
expect_contains "$out" "token.toml:15: telegram.token: the bot token never goes in the configuration" "says where the token goes, with file:line"
[[ $out != *"$TOKEN"* ]] && ok "the refused token is not echoed" || bad "the token was printed: $out"
write_config "$WORK/typo.toml" "chat_id = [1]"
out=$("$QUANT" --config "$WORK/typo.toml" bot 2>&1); st=$?
expect_status $st 1 "an unknown key"
expect_contains "$out" "unknown key 'telegram.chat_id'" "names the unknown key"
write_config "$WORK/time.toml" "summary_time = \"7pm\""
out=$("$QUANT" --config "$WORK/time.toml" bot 2>&1); st=$?
expect_status $st 1 "a bad summary_time"
expect_contains "$out" "telegram.summary_time" "names the key"
write_config "$WORK/nochat.toml" "symbols = [\"BTCUSDT\"]"
out=$(QUANT_TELEGRAM_TOKEN=$TOKEN "$QUANT" --config "$WORK/nochat.toml" bot 2>&1); st=$?
expect_status $st 1 "no allow-listed chat"
expect_contains "$out" "chat_ids is empty" "says the allow-list is empty"
write_config "$WORK/nosym.toml" "chat_ids = [111]
symbols = [\"NOPE\"]"
out=$(QUANT_TELEGRAM_TOKEN=$TOKEN "$QUANT" --config "$WORK/nosym.toml" bot 2>&1); st=$?
expect_status $st 1 "an unknown symbol"
expect_contains "$out" "NOPE" "names the symbol"
write_config "$WORK/ok.toml" "chat_ids = [111]
symbols = [\"BTCUSDT\"]
stale_seconds = 3600
poll_seconds = 1"
out=$("$QUANT" --config "$WORK/ok.toml" bot 2>&1); st=$?
expect_status $st 1 "no token"
expect_contains "$out" "QUANT_TELEGRAM_TOKEN" "says where the token is read from"
out=$("$QUANT" --config "$WORK/ok.toml" bot --token-file "$WORK/absent" 2>&1); st=$?
expect_status $st 1 "a missing token file"
expect_contains "$out" "$WORK/absent" "names the token file"

start_redis; st=$?
[[ $st -eq 77 ]] && { finish; exit 77; }
[[ $st -ne 0 ]] && { finish; exit 1; }
R="127.0.0.1:$QUANT_REDIS_PORT"

echo "== a real run against the Bot API stand-in"
python3 "$ROOT/src/bot/telegram_stand_in.py" --token "$TOKEN" --port-file "$WORK/api.port" &
API_PID=$!
trap 'kill $API_PID 2>/dev/null; wait $API_PID 2>/dev/null; stop_redis; rm -rf "$WORK"' EXIT
for ((i = 0; i < 200; i++)); do [[ -s $WORK/api.port ]] && break; sleep 0.05; done
API="http://127.0.0.1:$(cat "$WORK/api.port")"
ctl() { curl -s -X POST -H 'Content-Type: application/json' -d "$2" "$API/_test/$1" >/dev/null; }
requests() { curl -s "$API/_test/requests"; }

ctl fail '{"method": "getUpdates", "status": 502, "count": 1}'   # a proxy's HTML page first
ctl update '{"chat_id": 111, "text": "/status"}'
ctl update '{"chat_id": 999, "text": "/halt words of a stranger"}'
ctl update '{"chat_id": 111, "text": "/halt from the cli test"}'
printf '%s\n' "$TOKEN" >"$WORK/token"
"$QUANT" --config "$WORK/ok.toml" bot --redis "$R" --api-url "$API" --token-file "$WORK/token" \
  --state-file "$WORK/state/bot.json" >"$WORK/bot.out" 2>"$WORK/bot.err" &
BOT_PID=$!
for ((i = 0; i < 200; i++)); do
  [[ $(redis-cli -p "$QUANT_REDIS_PORT" hget risk:halt by 2>/dev/null) == telegram:111 ]] && break
  sleep 0.1
done
expect_eq "$(redis-cli -p "$QUANT_REDIS_PORT" hget risk:halt reason)" "from the cli test" "/halt set risk:halt"
ctl fail '{"method": "sendMessage", "status": 500, "count": 1}'
ctl update '{"chat_id": 111, "text": "/pnl"}'
for ((i = 0; i < 100; i++)); do
  requests | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if sum(1 for x in r if x["method"]=="sendMessage" and x["status"]==200 and "No mon:metrics" in x.get("text","")) else 1)' && break
  sleep 0.1
done
kill -TERM $BOT_PID; wait $BOT_PID; st=$?
expect_status $st 0 "SIGTERM stops the bot cleanly"
err=$(cat "$WORK/bot.err")
expect_contains "$err" "ignored update" "the stranger's update is logged as ignored"
[[ $err != *"words of a stranger"* ]] && ok "without its text" || bad "the stranger's text was logged"
expect_contains "$err" "HTTP 502" "the proxy error is logged"
expect_contains "$err" "HTTP 500" "the 500 is logged (and retried)"
expect_contains "$err" "bot: stopped after" "a last line on exit"
sent=$(requests | python3 -c 'import json,sys; r=json.load(sys.stdin); print(" | ".join(x.get("text","") for x in r if x["method"]=="sendMessage" and x["status"]==200 and x["chat_id"]==111))')
expect_contains "$sent" "Trading: running" "/status answered"
expect_contains "$sent" "Halt set: from the cli test" "/halt answered"
expect_contains "$sent" "HALT RAISED: from the cli test" "halt alert sent"
expect_contains "$sent" "No mon:metrics from quant live" "/pnl answered after a 500 (retried)"
stranger=$(requests | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(1 for x in r if x["method"]=="sendMessage" and x["chat_id"]==999))')
expect_eq "$stranger" "0" "nothing sent to the stranger"

echo "== a restart does not replay the /halt"
redis-cli -p "$QUANT_REDIS_PORT" del risk:halt >/dev/null
QUANT_TELEGRAM_TOKEN=$TOKEN "$QUANT" --config "$WORK/ok.toml" bot --redis "$R" --api-url "$API" \
  --state-file "$WORK/state/bot.json" --rounds 2 >>"$WORK/bot.out" 2>>"$WORK/bot.err"; st=$?
expect_status $st 0 "two rounds, token from the environment"
expect_eq "$(redis-cli -p "$QUANT_REDIS_PORT" exists risk:halt)" "0" "the /halt did not run again"

echo "== errors with the token in the URL: a wrong token (401), nobody listening"
QUANT_TELEGRAM_TOKEN="$TOKEN-x" "$QUANT" --config "$WORK/ok.toml" bot --redis "$R" --api-url "$API" \
  --state-file "$WORK/state/wrong.json" --rounds 1 >>"$WORK/bot.out" 2>"$WORK/wrong.err"
expect_contains "$(cat "$WORK/wrong.err")" "HTTP 401" "the 401 is logged"
DEAD=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
QUANT_TELEGRAM_TOKEN=$TOKEN "$QUANT" --config "$WORK/ok.toml" bot --redis "$R" --api-url "http://127.0.0.1:$DEAD" \
  --state-file "$WORK/state/dead.json" >>"$WORK/bot.out" 2>"$WORK/dead.err" &
BOT_PID=$!
for ((i = 0; i < 100; i++)); do grep -q "retrying in" "$WORK/dead.err" 2>/dev/null && break; sleep 0.1; done
start=$(date +%s%N)
kill -TERM $BOT_PID; wait $BOT_PID; st=$?
took_ms=$((($(date +%s%N) - start) / 1000000))
expect_status $st 0 "SIGTERM while retrying an unreachable API"
[[ $took_ms -lt 5000 ]] && ok "stopped in ${took_ms} ms, not after the back-off" || bad "SIGTERM took ${took_ms} ms"
expect_contains "$(cat "$WORK/dead.err")" "no answer" "the refused connection is logged"

everything=$(cat "$WORK/bot.out" "$WORK/bot.err" "$WORK/wrong.err" "$WORK/dead.err" "$WORK"/state/*.json)
[[ -n $everything ]] && ok "there is output to check" || bad "no output at all"
if grep -rqF -- "AAcliSECRET" "$WORK/bot.out" "$WORK/bot.err" "$WORK/wrong.err" "$WORK/dead.err" "$WORK/state"; then
  bad "the token appears in the output, logs or state: $(grep -rF -- AAcliSECRET "$WORK/bot.out" "$WORK/bot.err" "$WORK/wrong.err" "$WORK/dead.err" "$WORK/state" | head -3)"
else
  ok "the token appears nowhere (stdout, stderr, state files)"
fi
finish
