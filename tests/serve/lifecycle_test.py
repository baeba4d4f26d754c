#!/usr/bin/env python3
"""Start-up and shutdown of `quant serve` with real processes and sockets:

1. One server per port. A second `quant serve` on a port that a running one
   listens on fails at once (exit != 0) with one line naming address and port;
   so does one on a port another program listens on (a plain Python socket,
   and one with SO_REUSEPORT); two started together on the same free port:
   exactly one runs. The first server keeps serving throughout.
2. SIGTERM drains: a request already on its way (its body still arriving,
   slowly, when the signal comes) is answered 200 with `Connection: close`;
   new connections are refused from the signal on; an idle keep-alive
   connection is closed; the process exits 0 and says every request was
   answered. A request that never completes is cut after drain_timeout_ms,
   or at once by a second SIGTERM; exit 0 either way, saying so.

    python3 tests/serve/lifecycle_test.py path/to/quant

Standard library only. Exit 0: all checks passed; 1: some failed; 77: no quant binary.
"""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve_fixture as sf  # noqa: E402

FAILURES: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and not ok else ""))
    if not ok:
        FAILURES.append(what + (f": {detail}" if detail else ""))
    return ok


def in_use_line(port: int) -> str:
    return f"serve: 127.0.0.1:{port} is already in use (another quant serve?)"


def run_serve_expecting_failure(quant: str, work: Path, config: str, models: Path, port: int,
                                name: str, within: float = 30) -> subprocess.CompletedProcess:
    """Runs a quant serve that should refuse to start; one still running after
    `within` s (it started serving) is killed and reported with returncode None."""
    cfg = work / f"{name}.toml"
    cfg.write_text(config)
    cmd = [quant, "--config", str(cfg), "serve", "--port", str(port), "--models", str(models), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work,
                            stdin=subprocess.DEVNULL, preexec_fn=sf._set_pdeathsig)
    try:
        out, err = proc.communicate(timeout=within)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return subprocess.CompletedProcess(cmd, None, out, err + f"\n(still running after {within} s: killed)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(body: bytes, keep_alive: bool = True) -> bytes:
    return (b"POST /infer HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + (b"" if keep_alive else b"Connection: close\r\n")
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One HTTP response with Content-Length from `sock`: (status, headers, body)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response ({data[:200]!r})")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a body")
        rest += chunk
    return status, headers, rest[:length]


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes `sock` (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def refused(port: int) -> tuple[bool, str]:
    """A new connection to the port is refused (or reset before any answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(http_request(b"{}", keep_alive=False))
            s.settimeout(2)
            data = s.recv(100)
            return data == b"", f"connected and got {data[:60]!r}"
    except (ConnectionRefusedError, ConnectionResetError):
        return True, ""
    except OSError as e:
        return False, str(e)


def wait_for_stderr(server: sf.Server, text: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.stderr_text():
            return True
        time.sleep(0.02)
    return False


def strip_latency(raw: bytes) -> dict:
    answer = json.loads(raw)
    answer.pop("latency_us", None)
    return answer


# ------------------------------------------------------------------- 1. one server per port

def port_in_use(quant: str, work: Path, models: Path, config: str, body: dict) -> None:
    first = sf.start_server(quant, work, config, models=models, name="first")
    try:
        port = first.port
        status, _, baseline = sf.request(first.base_url, "POST", "/infer", body)
        check(status == 200, "the first server answers /infer")

        t0 = time.monotonic()
        second = run_serve_expecting_failure(quant, work, config, models, port, "second")
        lines = [line for line in second.stderr.splitlines() if in_use_line(port) in line]
        check(second.returncode not in (0, None), f"a second quant serve on port {port} fails",
              f"exit {second.returncode}")
        check(len(lines) == 1, "it says, in one line, that 127.0.0.1:PORT is in use",
              f"stderr: {second.stderr.strip()[-400:]!r}")
        check("listening on" not in second.stderr, "it never says it is listening")
        print(f"     ({time.monotonic() - t0:.1f} s, mostly loading the models; message: {lines[:1]})")

        answers = 0
        for _ in range(40):  # fresh connections: the kernel would spread them over a port group
            status, _, raw = sf.request(first.base_url, "POST", "/infer", body)
            answers += status == 200 and strip_latency(raw) == strip_latency(baseline)
        check(answers == 40 and first.alive(), "the first server still answers every connection", f"{answers}/40")

        # Any other program on a port: a plain listener, and one with SO_REUSEPORT
        # (which a quant serve worker socket would otherwise join).
        for label, reuseport in (("a Python listener", False), ("a Python listener with SO_REUSEPORT", True)):
            with socket.socket() as other:
                other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuseport:
                    other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                other.bind(("127.0.0.1", 0))
                other.listen(8)
                other_port = other.getsockname()[1]
                done = run_serve_expecting_failure(quant, work, config, models, other_port, "beside-python")
                check(done.returncode not in (0, None) and in_use_line(other_port) in done.stderr,
                      f"quant serve on the port of {label} fails with the message",
                      f"exit {done.returncode}, stderr {done.stderr.strip()[-300:]!r}")

        # Two started together on one free port: exactly one serves.
        for round_no in range(4):
            port2 = free_port()
            procs = []
            for side in "ab":
                cfg = work / f"race{round_no}{side}.toml"
                cfg.write_text(config)
                err = open(work / f"race{round_no}{side}.stderr", "wb")
                procs.append((subprocess.Popen(
                    [quant, "--config", str(cfg), "serve", "--port", str(port2), "--models", str(models),
                     "--workers", "2"], stdout=err, stderr=err, stdin=subprocess.DEVNULL, cwd=work,
                    preexec_fn=sf._set_pdeathsig), err, work / f"race{round_no}{side}.stderr"))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                listening = sum("listening on" in path.read_text(errors="replace") for _, _, path in procs)
                exited = sum(p.poll() is not None for p, _, _ in procs)
                if listening + exited >= 2:
                    break
                time.sleep(0.05)
            time.sleep(0.3)  # let a loser that bound anyway show itself
            alive = [p for p, _, _ in procs if p.poll() is None]
            failed = [path.read_text(errors="replace") for p, _, path in procs if p.poll() is not None]
            ok = len(alive) == 1 and len(failed) == 1 and in_use_line(port2) in failed[0]
            check(ok, f"race {round_no + 1}: two servers started together on port {port2}: exactly one runs",
                  f"{len(alive)} alive; stderr of the exited: {[f.strip()[-200:] for f in failed]}")
            for p, err, _ in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        code = p.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        code = p.wait()
                    check(code == 0, f"race {round_no + 1}: the winner stops with exit 0 on SIGTERM", f"exit {code}")
                err.close()
        check(first.alive(), "the first server is still up after all that")
    finally:
        code = first.stop()
    check(code == 0, "the first server exits 0 on SIGTERM", f"exit {code}")


# ------------------------------------------------------------------- 2. SIGTERM drains

def drain(quant: str, work: Path, models: Path, body: dict) -> None:
    config = sf.config_text(sf.serve_section(models, workers=2, request_timeout_ms=20000, drain_timeout_ms=15000))
    server = sf.start_server(quant, work, config, models=models, name="drain")
    try:
        port = server.port
        raw_body = json.dumps(body).encode()
        status, _, baseline = sf.request(server.base_url, "POST", "/infer", raw_body)
        check(status == 200, "the drain server answers /infer")

        idle = socket.create_connection(("127.0.0.1", port), timeout=5)
        idle.sendall(http_request(raw_body))
        status, headers, _ = read_response(idle)
        check(status == 200 and headers.get("connection", "").lower() != "close",
              "an idle keep-alive connection is open before SIGTERM")

        # A request on its way: headers and half of the body now, the rest after SIGTERM.
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        request = http_request(raw_body)
        split = len(request) - len(raw_body) // 2
        slow.sendall(request[:split])
        time.sleep(0.3)  # the server has read the headers: the request is in flight

        t_signal = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        check(wait_for_stderr(server, "SIGTERM: stopping"), "the server says it is stopping",
              server.stderr_text()[-300:])
        is_refused, detail = refused(port)
        check(is_refused, "a new connection after SIGTERM is refused", detail)
        check(closed_within(idle, 3), "the idle keep-alive connection is closed")
        time.sleep(1.0)
        check(server.alive(), "the server waits for the request in flight (1 s after SIGTERM)")

        for i in range(split, len(request), 7):  # the rest, slowly
            slow.sendall(request[i:i + 7])
            time.sleep(0.01)
        try:
            status, headers, answer = read_response(slow)
            check(status == 200, "the request in flight is answered 200", f"{status} {answer[:200]!r}")
            check(strip_latency(answer) == strip_latency(baseline), "with the same answer as before SIGTERM")
            check(headers.get("connection", "").lower() == "close", "with Connection: close", str(headers))
            check(closed_within(slow, 3), "and its connection is closed after it")
        except (ConnectionError, OSError) as e:
            check(False, "the request in flight is answered", str(e))
        try:
            code = server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        elapsed = time.monotonic() - t_signal
        check(code == 0, "the server exits 0 once drained", f"exit {code}")
        check(elapsed < 8, f"and does not wait for the drain timeout ({elapsed:.1f} s after SIGTERM)")
        check("serve: stopped: every request in flight was answered" in server.stderr_text(),
              "it says every request in flight was answered", server.stderr_text()[-400:])
        idle.close()
        slow.close()
    finally:
        server.stop()
    for line in server.crash_lines():
        check(False, "no crash on stderr", line)

    # A request that never completes: cut after drain_timeout_ms; or at once by a second SIGTERM.
    for label, drain_ms, second_signal, says in (
            ("the drain timeout", 500, False, "the drain timed out; closed 1 connection(s) still open"),
            ("a second SIGTERM", 15000, True, "a second signal ended the drain; closed 1 connection(s) still open")):
        config = sf.config_text(sf.serve_section(models, workers=2, request_timeout_ms=20000,
                                                 drain_timeout_ms=drain_ms))
        server = sf.start_server(quant, work, config, models=models, name="drain-cut")
        try:
            stuck = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            stuck.sendall(http_request(json.dumps(body).encode())[:-5])
            time.sleep(0.3)
            t0 = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            if second_signal:
                wait_for_stderr(server, "SIGTERM: stopping")
                time.sleep(0.3)
                server.proc.send_signal(signal.SIGTERM)
            try:
                code = server.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
            elapsed = time.monotonic() - t0
            check(code == 0 and elapsed < 5, f"a request that never completes is cut by {label}; exit 0",
                  f"exit {code} after {elapsed:.1f} s")
            check(says in server.stderr_text(), f"the server says so ({says!r})", server.stderr_text()[-400:])
            check(closed_within(stuck, 2), "the stuck connection is closed")
            stuck.close()
        finally:
            server.stop()


def main() -> int:
    quant = sf.quant_binary(sys.argv)
    work = sf.work_dir("quant-serve-lifecycle")
    t0 = time.monotonic()
    models = sf.train_models(quant, work, days=30, seed=7)
    features = sf.manifest_features(models)
    print(f"lifecycle: models trained in {time.monotonic() - t0:.1f} s")
    body = {"symbol": "WIN", "atr": 150.0, "features": {name: 0.1 for name in features}}
    config = sf.config_text(sf.serve_section(models, workers=2))
    port_in_use(quant, work, models, config, body)
    drain(quant, work, models, body)
    if FAILURES:
        print(f"\n{len(FAILURES)} FAILED CHECKS:")
        for f in FAILURES:
            print(f"  FAIL {f}")
        return 1
    print("lifecycle: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
