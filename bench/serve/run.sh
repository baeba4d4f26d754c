#!/usr/bin/env bash
# The signal service against the Python stack, same run, same machine state.
# `quant serve` (C++, ONNX Runtime) and the same Gatekeeper served by FastAPI on
# uvicorn predicting with XGBoost's Python package (bench/serve/python_service.py:
# the same /infer contract and validation), both on loopback, loaded from a
# second process by wrk (bench/serve/post.lua POSTs one fixed body):
#   1. a model directory in a temporary dir (generate 60 WIN-like days, seed 42 →
#      ingest → quant train), a serve config (config/quant.toml with our own
#      [serve] tables in place of its own);
#   2. both services started, each with as many workers as the machine has
#      cores (C++ worker threads = uvicorn worker processes, one XGBoost thread
#      each, so the comparison is per core);
#   3. parity first: the same body to both, scores must agree (and invalid
#      bodies get the same status and field);
#   4. warm-up, then wrk -t1 -c1 and -t2 -c64 for DURATION s each, alternating
#      C++ / Python; req/s and p50/p99/p99.9 latency, the ratios and the goals
#      (p99 at 1 connection ≤ 250 µs; ≥ 20× the Python stack's throughput).
# The report is printed and saved to bench/results/serve_<UTC>.txt. Builds
# nothing: `cmake --preset bench && cmake --build build/bench --target quant`.
# Usage: bench/serve/run.sh [BUILD_DIR=build/bench] [DURATION=10]
# Environment: WORKERS (default nproc), WARMUP seconds (default 3), PYTHON (default:
# the first of python3, /usr/bin/python3 that has fastapi, uvicorn, xgboost, numpy;
# uvloop and httptools are required too, unless ALLOW_H11=1).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=$(readlink -f "${1:-$ROOT/build/bench}")
DURATION=${2:-10}
WORKERS=${WORKERS:-$(nproc)}
WARMUP=${WARMUP:-3}
QUANT="$BUILD/apps/quant/quant"
RESULTS="$ROOT/bench/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)  # before this script adds its own
REPORT="$RESULTS/serve_$STAMP.txt"

die() { echo "bench/serve: $*" >&2; exit 1; }
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be whole seconds, got '$DURATION'"
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive integer, got '$WORKERS'"
[[ -x $QUANT ]] || die "$QUANT is missing: build it with
  cmake --preset bench && cmake --build build/bench --target quant"
"$QUANT" serve --help >/dev/null 2>&1 || die "$QUANT has no 'serve' subcommand: rebuild it
  (cmake --build ${BUILD#"$ROOT"/} --target quant)"
command -v wrk >/dev/null || die "wrk is missing (Debian: apt-get install wrk)"
command -v curl >/dev/null || die "curl is missing"
command -v setsid >/dev/null || die "setsid is missing (util-linux)"
if [[ -z ${PYTHON:-} ]]; then
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import fastapi, uvicorn, xgboost, numpy' 2>/dev/null; then PYTHON=$p; break; fi
  done
  [[ -n ${PYTHON:-} ]] || die "no python3 with fastapi, uvicorn, xgboost and numpy
  (Debian: apt-get install python3-fastapi python3-uvicorn python3-xgboost python3-numpy)"
fi
# uvicorn's "standard" stack. Without httptools it falls back to h11, whose answers
# on a lone keep-alive connection stall ~44 ms each (measured here: 23 req/s at 1
# connection, the Nagle/delayed-ACK signature), which would flatter the ratio absurdly.
"$PYTHON" -c 'import uvloop, httptools' 2>/dev/null || [[ ${ALLOW_H11:-} == 1 ]] || die "$PYTHON lacks uvloop/httptools:
  uvicorn would run on asyncio + h11, whose 1-connection latency is a ~44 ms stall, not Python's cost
  (Debian: apt-get install python3-uvloop python3-httptools; ALLOW_H11=1 runs anyway)"
mkdir -p "$RESULTS"

# Teardown, on success, failure or Ctrl-C alike: both servers stopped (each is its
# own process group, started with setsid), the temporary directory removed; the
# report (tee'd from stdout) kept in bench/results only when the run completed.
WORK=$(mktemp -d)
PIDS=()
finish() {
  local status=$? pid i
  trap - EXIT INT TERM
  exec 1>&3  # stdout back to the terminal: the tee below sees end of input
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  [[ -n ${TEE_PID:-} ]] && wait "$TEE_PID" 2>/dev/null
  if ((status == 0 || status == 3)); then
    cp "$WORK/report.txt" "$REPORT"
    echo "saved: $REPORT"
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
exec 3>&1
# The report: stdout also goes to a file (tee ignores Ctrl-C, to write it all).
exec > >(trap '' INT; exec tee "$WORK/report.txt")
TEE_PID=$!

log() { echo "bench/serve: $*" >&2; }

# wait_ready NAME PID URL LOG: /ready answers 200 within 60 s, or fail with the log.
wait_ready() {
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$2" 2>/dev/null || { tail -20 "$4" >&2; die "$1 exited while starting (log above)"; }
    curl -sf -o /dev/null "$3/ready" && return 0
    sleep 0.1
  done
  tail -20 "$4" >&2; die "$1 not ready after 60 s (log above)"
}

# 1. Models and configuration.
log "training the Gatekeeper on a generated WIN-like market (60 days, seed 42)"
# The repository's configuration without its own [serve] tables (ours are appended below).
awk '/^\[\[?[A-Za-z_"]/ { skip = ($0 ~ /^\[\[?[[:space:]]*"?serve"?[[:space:]]*[].]/) } !skip' \
  "$ROOT/config/quant.toml" > "$WORK/base.toml"
q() { "$QUANT" --config "$WORK/base.toml" --lake "$WORK/lake" "$@"; }
q -q generate -s WIN --days 60 --seed 42 --out "$WORK/win.csv" >/dev/null
q -q ingest -f mt5-bars -s WIN "$WORK/win.csv" >/dev/null
q train -s WIN --out "$WORK/models" > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log" >&2; die "quant train failed"; }
cp "$WORK/base.toml" "$WORK/serve.toml"
cat >> "$WORK/serve.toml" <<EOF

[serve]
bind = "127.0.0.1"
port = 0
workers = $WORKERS
[serve.paper]
symbols = []
# The Python peer answers `pass` = prob >= p_min: the same rule here (no
# quantile checks), so the parity check compares like with like.
[[serve.gates]]
name = "gatekeeper"
dir = "$WORK/models"
p_min = 0.5
use_quantiles = false
EOF
"$PYTHON" "$HERE/tools.py" body "$WORK/models" gatekeeper > "$WORK/body.json"

# 2. The two services.
log "starting quant serve and uvicorn ($WORKERS workers each)"
setsid "$QUANT" --config "$WORK/serve.toml" --lake "$WORK/lake" serve --port 0 --port-file "$WORK/cpp.port" \
  --workers "$WORKERS" --models "$WORK/models" > "$WORK/cpp.log" 2>&1 &
cpp_pid=$!; PIDS+=("$cpp_pid")
for ((i = 0; i < 600; i++)); do
  [[ -s $WORK/cpp.port ]] && break
  kill -0 "$cpp_pid" 2>/dev/null || { tail -20 "$WORK/cpp.log" >&2; die "quant serve exited while starting (log above)"; }
  sleep 0.1
done
[[ -s $WORK/cpp.port ]] || { tail -20 "$WORK/cpp.log" >&2; die "quant serve wrote no port file within 60 s"; }
cpp_port=$(tr -dc 0-9 < "$WORK/cpp.port")
py_port=$("$PYTHON" "$HERE/tools.py" freeport)
SERVE_BENCH_MODELS="$WORK/models" SERVE_BENCH_GATE=gatekeeper SERVE_BENCH_P_MIN=0.5 \
  setsid "$PYTHON" -m uvicorn python_service:app --app-dir "$HERE" --host 127.0.0.1 --port "$py_port" \
  --workers "$WORKERS" --no-access-log --log-level warning > "$WORK/py.log" 2>&1 &
py_pid=$!; PIDS+=("$py_pid")
CPP="http://127.0.0.1:$cpp_port" PY="http://127.0.0.1:$py_port"
wait_ready "quant serve" "$cpp_pid" "$CPP" "$WORK/cpp.log"
wait_ready "uvicorn" "$py_pid" "$PY" "$WORK/py.log"
# Every uvicorn worker reports its XGBoost prediction path on /ready; collect a few.
paths=""
for ((i = 0; i < 4 * WORKERS; i++)); do
  paths+="$(curl -s "$PY/ready" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["predict"])') "
done
paths=$(tr ' ' '\n' <<< "$paths" | sed '/^$/d' | sort -u | paste -sd/)

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
[[ -n $cpu ]] || cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)
echo "# quant serve vs FastAPI/uvicorn/XGBoost, $(date -u +%FT%TZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, ${cpu:-unknown CPU}, $(uname -sr), load average $LOAD0 (at start)"
awk -v n="$(nproc)" '$1 > 0.25 * n { printf "WARNING: the machine is busy (load average %s on %d cores): other work competes with the servers and wrk; numbers are not representative\n", $1, n }' <<< "$LOAD0"
echo "C++: $("$QUANT" --version 2>&1 | head -1) ($BUILD), $WORKERS worker threads"
echo "Python: $("$PYTHON" "$HERE/tools.py" versions)"
echo "        $WORKERS uvicorn worker processes (= the C++ worker threads: per-core fair), XGBoost nthread 1,"
echo "        prediction path: $paths (the faster one, measured at start-up), access log off"
echo "load: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2) over loopback, on the same $(nproc) cores; bench/serve/post.lua; ${DURATION} s per run after ${WARMUP} s warm-up"
echo "model: Gatekeeper trained on $(sed -n 's/^gatekeeper for WIN trained.*: \([0-9]* signals\).*/\1/p' "$WORK/train.log") (generated WIN, 60 days, seed 42); trees:" \
  "$(sed -n 's/^ *\(prob\|q10\|q90\) .*(\([0-9]*\) trees).*/\1 \2/p' "$WORK/train.log" | paste -sd, | sed 's/,/, /g')"
echo "body: $(wc -c < "$WORK/body.json") bytes, one row of $("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["features"]))' "$WORK/body.json") features"
echo

# 3. Parity.
echo "## Parity (the same body to both)"
"$PYTHON" "$HERE/tools.py" parity "$WORK/body.json" "$CPP/infer" "$PY/infer" || die "the two services disagree: no benchmark"
echo

# 4. Load.
log "warming up (${WARMUP} s per service)"
for url in "$CPP" "$PY"; do
  wrk -t2 -c64 -d"${WARMUP}s" -s "$HERE/post.lua" "$url/infer" -- "$WORK/body.json" > /dev/null
  wrk -t1 -c1 -d1s -s "$HERE/post.lua" "$url/infer" -- "$WORK/body.json" > /dev/null
done
# CPU time (clock ticks, user + system, all threads) of every process in a group:
# the server's own cost, whatever the load generator beside it costs.
cpu_ticks() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pg="$1" '{
    s = $0; sub(/^.*\) /, "", s); split(s, f, " ")  # the fields after "(comm) "
    if (f[3] == pg) t += f[12] + f[13]
  } END { print t + 0 }'
}
TCK=$(getconf CLK_TCK)
# run NAME URL PGID THREADS CONNS → "NAME CONNS requests rps p50 p99 p999 errors cpu_us_per_request" in $WORK/results
run() {
  log "wrk -t$4 -c$5 -d${DURATION}s → $1"
  local t0; t0=$(cpu_ticks "$3")
  wrk -t"$4" -c"$5" -d"${DURATION}s" -s "$HERE/post.lua" "$2/infer" -- "$WORK/body.json" > "$WORK/wrk.out" 2>&1 \
    || { cat "$WORK/wrk.out" >&2; die "wrk failed against $1"; }
  local t1; t1=$(cpu_ticks "$3")
  local line; line=$(grep '^WRK ' "$WORK/wrk.out") || { cat "$WORK/wrk.out" >&2; die "no WRK line from post.lua"; }
  awk -v name="$1" -v c="$5" -v ticks=$((t1 - t0)) -v tck="$TCK" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    per_request = v["requests"] > 0 ? ticks / tck * 1e6 / v["requests"] : 0
    print name, c, v["requests"], v["rps"], v["p50_us"], v["p99_us"], v["p999_us"], v["non2xx"] + v["socket_errors"], per_request
  }' <<< "$line" >> "$WORK/results"
}
: > "$WORK/results"
run cpp "$CPP" "$cpp_pid" 1 1
run python "$PY" "$py_pid" 1 1
run cpp "$CPP" "$cpp_pid" 2 64
run python "$PY" "$py_pid" 2 64

echo "## Load: wrk, ${DURATION} s per run, alternating C++ / Python (latency in µs, as wrk measures it: client side;"
echo "## CPU µs/req: the server processes' user + system CPU time over the run / requests, from /proc)"
awk '
  { n[$1 "," $2] = $3; rps[$1 "," $2] = $4; p50[$1 "," $2] = $5; p99[$1 "," $2] = $6; p999[$1 "," $2] = $7; err[$1 "," $2] = $8; errors += $8 + ($3 == 0)
    cpu[$1 "," $2] = $9 }
  END {
    label["cpp"] = "quant serve (C++, ONNX Runtime)"; label["python"] = "FastAPI/uvicorn + XGBoost (Python)"
    printf "%-36s %5s %10s %11s %8s %8s %9s %7s %10s\n", "service", "conns", "requests", "req/s", "p50", "p99", "p99.9", "errors", "CPU µs/req"
    for (c = 1; c <= 64; c += 63) for (s = 0; s < 2; s++) {
      k = (s ? "python" : "cpp") "," c
      printf "%-36s %5d %10d %11.1f %8d %8d %9d %7d %10.1f\n", label[s ? "python" : "cpp"], c, n[k], rps[k], p50[k], p99[k], p999[k], err[k], cpu[k]
    }
    print ""
    print "## Ratios (same run)"
    t1 = rps["cpp,1"] / rps["python,1"]; t64 = rps["cpp,64"] / rps["python,64"]
    printf "throughput C++/Python:  %.1fx at 1 connection, %.1fx at 64 connections\n", t1, t64
    printf "p99 Python/C++:         %.1fx at 1 connection, %.1fx at 64 connections\n", p99["python,1"] / p99["cpp,1"], p99["python,64"] / p99["cpp,64"]
    printf "p50 Python/C++:         %.1fx at 1 connection, %.1fx at 64 connections\n", p50["python,1"] / p50["cpp,1"], p50["python,64"] / p50["cpp,64"]
    if (cpu["cpp,1"] > 0 && cpu["cpp,64"] > 0)
      printf "server CPU per request Python/C++: %.1fx at 1 connection, %.1fx at 64 connections (throughput per core, without the load generator)\n", cpu["python,1"] / cpu["cpp,1"], cpu["python,64"] / cpu["cpp,64"]
    print ""
    print "## Goals"
    if (errors > 0) { printf "NOT JUDGED: %d failed requests (non-2xx or socket errors) or empty runs above\n", errors; exit }
    printf "p99 at 1 connection <= 250 us:      %s (%d us)\n", (p99["cpp,1"] <= 250 ? "MET" : "NOT MET"), p99["cpp,1"]
    printf ">= 20x the Python throughput:       %s (%.1fx at 64 connections, the saturated case; %.1fx at 1 connection)\n", (t64 >= 20 ? "MET" : "NOT MET"), t64, t1
  }' "$WORK/results"
# Failed requests (or a run without any) invalidate the numbers: the report is kept, the exit status is 3.
awk '{ n += $8 + ($3 == 0) } END { exit n > 0 ? 3 : 0 }' "$WORK/results"
