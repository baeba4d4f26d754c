#!/usr/bin/env bash
# End-to-end tests of `quant halt` against a private redis-server.
source "$(dirname "$0")/lib.sh"
start_redis; st=$?
[[ $st -eq 77 ]] && exit 77
[[ $st -ne 0 ]] && { finish; exit 1; }
R="127.0.0.1:$QUANT_REDIS_PORT"

echo "== no flag at first"
out=$(q halt --status --redis "$R" 2>&1); st=$?
expect_status $st 0 "status without a flag"
expect_contains "$out" "not halted" "says not halted"

echo "== set, then status shows it"
out=$(q halt --set --reason "manual stop: feed glitch" --equity 98500 --redis "$R" 2>&1); st=$?
expect_status $st 0 "set"
expect_contains "$out" "halt set" "confirms the halt"
out=$(q halt --status --redis "$R" 2>&1); st=$?
expect_status $st 0 "status with a flag"
expect_contains "$out" "HALTED: manual stop: feed glitch" "shows the reason"
expect_contains "$out" "98500.00" "shows the equity"
expect_contains "$out" "operator" "shows who set it"
if command -v redis-cli >/dev/null 2>&1; then
  expect_eq "$(redis-cli -p "$QUANT_REDIS_PORT" hget risk:halt reason)" "manual stop: feed glitch" "the flag is the risk:halt hash"
fi

echo "== clear, twice"
out=$(q halt --clear --redis "$R" 2>&1); st=$?
expect_status $st 0 "clear"
expect_contains "$out" "halt cleared" "confirms the clear"
out=$(q halt --clear --redis "$R" 2>&1); st=$?
expect_status $st 0 "clearing nothing is not an error"
expect_contains "$out" "nothing to clear" "says there was nothing"
out=$(q halt --status --redis "$R" 2>&1)
expect_contains "$out" "not halted" "gone after the clear"

echo "== bad requests and an unreachable Redis"
out=$(q halt --set --redis "$R" 2>&1); st=$?
expect_status $st 1 "--set without --reason"
expect_contains "$out" "--reason" "names the missing option"
out=$(q halt --status --clear --redis "$R" 2>&1); st=$?
expect_status $st 1 "two actions at once"
out=$(q halt --status --redis "127.0.0.1:notaport" 2>&1); st=$?
expect_status $st 1 "a bad --redis"
expect_contains "$out" "port must be a number" "explains what is wrong"
stop_redis
out=$(q halt --status --redis "$R" --wait 0.5 2>&1); st=$?
expect_status $st 1 "Redis down"
expect_contains "$out" "$R" "names host:port"
finish
