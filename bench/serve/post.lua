-- wrk script for bench/serve/run.sh: POSTs one fixed JSON body, and prints one
-- line that is easy to parse when the run is done.
--   WRK_BODY=body.json wrk -t1 -c1 -d10s -s bench/serve/post.lua http://127.0.0.1:8080/infer
--   wrk ... -s bench/serve/post.lua http://127.0.0.1:8080/infer -- body.json   (the same)
-- The line (latencies in microseconds, from wrk's per-request histogram):
--   WRK requests=N duration_s=S rps=R mean_us=M p50_us=A p90_us=B p99_us=C p999_us=D max_us=E
--       non2xx=N socket_errors=N connect=N read=N write=N timeout=N
-- non2xx counts answers with a status >= 400 (wrk's `errors.status`); socket_errors
-- is connect + read + write + timeout.
-- No response() callback: defining one makes wrk hand every answer to Lua, which
-- slows the load generator down; failures are counted by wrk itself.

local function read_body(path)
  local f, err = io.open(path, "rb")
  if not f then error("post.lua: cannot read the body file: " .. tostring(err)) end
  local body = f:read("*a")
  f:close()
  return body
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("WRK_BODY") then wrk.body = read_body(os.getenv("WRK_BODY")) end

function init(args)  -- runs in every wrk thread before its request is formatted
  if args[1] then wrk.body = read_body(args[1]) end
  if not wrk.body then error("post.lua: name the body file in WRK_BODY or after `--`") end
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rps=%.1f mean_us=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
    "non2xx=%d socket_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
