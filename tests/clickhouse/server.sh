#!/usr/bin/env bash
# A private clickhouse-server for tests and benchmarks: loopback only, free
# ports, every path inside DIR (data, logs, config), the default user without
# a password from 127.0.0.1 only. The one implementation: the C++ test helper
# (src/logger/test_clickhouse.h), the CLI tests and bench/clickhouse use it.
#
#   server.sh start DIR    start (again: same ports and data) and wait for /ping;
#                          prints the HTTP port; writes DIR/pid, DIR/http_port
#   server.sh stop DIR     SIGTERM and wait (a clean shutdown)
#   server.sh kill DIR     SIGKILL and wait (a crash)
#
# Exit 77 when clickhouse-server is not installed (scripts/setup.sh installs
# it); callers skip then, except under CI.
set -uo pipefail
action=${1:?usage: server.sh start|stop|kill DIR}
dir=${2:?usage: server.sh start|stop|kill DIR}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until the process is gone (it is not our child when started by another shell).
wait_gone() {
  local pid=$1 i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  echo "clickhouse-server (pid $pid) did not exit within 30 s" >&2
  return 1
}

case $action in
  start)
    command -v clickhouse-server >/dev/null 2>&1 || { echo "clickhouse-server is not installed" >&2; exit 77; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then cat "$dir/http_port"; exit 0; fi
    if [[ ! -f $dir/config.xml ]]; then
      http=$(free_port)
      tcp=$(free_port)
      while [[ $tcp == "$http" ]]; do tcp=$(free_port); done
      echo "$http" > "$dir/http_port"
      mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
      cat > "$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <keep_alive_timeout>30</keep_alive_timeout>
</yandex>
EOF
      cat > "$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
    fi
    http=$(cat "$dir/http_port")
    # Its own session, so a test's process group signals do not reach it; the log says why it stopped.
    setsid clickhouse-server --config-file="$dir/config.xml" > "$dir/log/stdout.log" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$dir/pid"
    for ((i = 0; i < 600; i++)); do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "clickhouse-server exited at start-up:" >&2
        tail -n 20 "$dir/log/server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null
        rm -f "$dir/pid"
        exit 1
      fi
      if [[ $(curl -s --max-time 1 "http://127.0.0.1:$http/ping" 2>/dev/null) == Ok.* ]]; then
        echo "$http"
        exit 0
      fi
      sleep 0.05
    done
    echo "clickhouse-server did not answer /ping on port $http within 30 s" >&2
    tail -n 20 "$dir/log/server.err.log" >&2 2>/dev/null
    exit 1
    ;;
  stop | kill)
    [[ -f $dir/pid ]] || exit 0
    pid=$(cat "$dir/pid")
    if [[ $action == stop ]]; then kill -TERM "$pid" 2>/dev/null; else kill -KILL "$pid" 2>/dev/null; fi
    wait_gone "$pid" || { kill -KILL "$pid" 2>/dev/null; wait_gone "$pid"; }
    rm -f "$dir/pid"
    ;;
  *)
    echo "usage: server.sh start|stop|kill DIR" >&2
    exit 2
    ;;
esac
