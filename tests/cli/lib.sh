# Helpers for the command-line tests: tiny assertions with clear messages.
set -uo pipefail
QUANT=${1:?usage: $0 path/to/quant}
QUANT=$(readlink -f "$QUANT")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA="$ROOT/../shared/data"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/quant-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Research commands track their runs (MLflow layout): keep them out of the repository.
export MLFLOW_TRACKING_URI="$WORK/mlruns"
failures=0
checks=0
q() { "$QUANT" --config "$ROOT/config/quant.toml" "$@"; }
ok() { checks=$((checks + 1)); echo "  ok: $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "  FAIL: $*"; }
expect_eq() {  # actual expected message
  if [[ "$1" == "$2" ]]; then ok "$3"; else bad "$3: got '$1', expected '$2'"; fi
}
expect_contains() {  # haystack needle message
  if [[ "$1" == *"$2"* ]]; then ok "$3"; else bad "$3: '$2' not in: $1"; fi
}
expect_status() {  # actual expected message
  if [[ "$1" -eq "$2" ]]; then ok "$3"; else bad "$3: exit $1, expected $2"; fi
}
# have_data: true when ../shared/data is there. Without it a test skips its
# real-data part with a message — except under CI (CI set), which always has
# the data: there its absence is a failure.
have_data() {
  [[ -d $DATA ]] && return 0
  if [[ -n ${CI:-} ]]; then bad "$DATA is absent, and CI always has ../shared/data"; else echo "SKIP real-data checks: $DATA is absent"; fi
  return 1
}
parquet_count() { find "$1" -name '*.parquet' 2>/dev/null | wc -l; }
finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [[ $failures -eq 0 ]]
}
# start_redis: a private redis-server on a free loopback port, its data in
# $WORK/redis (AOF fsynced on every write), stopped on exit; exports
# QUANT_REDIS_PORT. Without redis-server it returns 77 (the test skips) —
# except under CI, which always has it: there it is a failure.
REDIS_PID=
start_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    if [[ -n ${CI:-} ]]; then bad "redis-server is not installed, and CI always has it"; return 1; fi
    echo "SKIP: redis-server is not installed (scripts/setup.sh installs it)"
    return 77
  fi
  local port i pong
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/redis"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes --appendfsync always \
    --save "" --daemonize no --logfile "$WORK/redis/redis.log" &
  REDIS_PID=$!
  trap 'stop_redis; rm -rf "$WORK"' EXIT
  for ((i = 0; i < 200; i++)); do
    pong=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'PING\r\n' >&3 && read -r -t 1 line <&3 && echo "$line") 2>/dev/null)
    if [[ $pong == +PONG* ]]; then
      export QUANT_REDIS_PORT=$port
      return 0
    fi
    sleep 0.05
  done
  bad "redis-server did not answer PING on port $port: $(cat "$WORK/redis/redis.log" 2>/dev/null)"
  return 1
}
# stop_redis: SIGTERM to the server start_redis started, and wait for it.
stop_redis() {
  if [[ -n $REDIS_PID ]]; then
    kill "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
  fi
}
