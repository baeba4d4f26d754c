#!/usr/bin/env python3
"""Robustness of `quant serve` (docs/contracts/serve_api.md): thousands of malformed,
truncated, oversized and slow requests and bad JSON bodies, sent from several threads
while a steady stream of valid /infer requests runs beside them; afterwards the server
must still answer the same body identically, count the transport's own answers in
/metrics, hold its memory, be alive and leave no crash on stderr.

    python3 tests/serve/robustness_test.py path/to/quant

Standard library only. Exit 0: every check passed; 1: some failed (each is printed);
77: the quant binary is missing. Deterministic inputs (seed SEED); about 15 s on 2 cores.
"""
from __future__ import annotations

import collections
import json
import os
import queue
import random
import re
import resource
import selectors
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve_fixture as sf  # noqa: E402

SEED = 20261125
REQUEST_TIMEOUT = 1.0  # [serve] request_timeout_ms = 1000
IDLE_TIMEOUT = 2.0     # [serve] idle_timeout_ms = 2000
MAX_BODY = 65536       # [serve] max_body_bytes
HEADER_LIMIT = 8192    # the transport's fixed 8 KiB
WORKERS = 2
WARMUP = 2000          # valid requests before each RSS reading
ABUSE_THREADS = 6
# Rounds of abuse (QUANT_ROBUSTNESS_ROUNDS=N for a longer soak); RSS is read after each.
ROUNDS = max(1, int(os.environ.get("QUANT_ROBUSTNESS_ROUNDS", "2")))
# Longest any answer may take: the server itself gives up on a request after
# REQUEST_TIMEOUT; the rest is slack for a loaded 2-core machine.
HANG = REQUEST_TIMEOUT + 2.5
# Allowed RSS growth from after the first warm-up to after the second one. The warm-up has
# already brought ONNX Runtime, the model sessions and the metric series to their steady
# size; what abuse may legitimately leave behind is memory glibc keeps in the two worker
# arenas after the largest transient peak: about 200 idle sessions × (16 KiB read buffer +
# session) ≈ 4 MB, plus two concurrent parse trees of a 64 KiB body nested 30 000 deep
# (≈ 2.5 MB each), ≈ 10 MB in all. +20 MB leaves room for that and allocator slack, and
# still catches a leak of ≳ 3 KB per abusive request (≈ 7 000 of them).
RSS_BOUND_KB = 20 * 1024
# Allowed growth from after round 1 to after the last round: by then the high-water marks
# are reached, so what still grows is a leak. ~3 000 abusive requests per round.
RSS_STEADY_KB = 6 * 1024


# ---------------------------------------------------------------------------- results

class Results:
    """Counts per abuse kind, statuses seen, and every failure (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = collections.Counter()          # kind → requests sent
        self.statuses = collections.defaultdict(collections.Counter)  # kind → status → n
        self.transport = collections.Counter()        # status → answers the transport gave itself
        self.failures: dict[tuple[str, str], list] = {}  # (kind, case) → [first message, count]
        self.notes: list[str] = []

    def sent(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.requests[kind] += n

    def saw(self, kind: str, status, transport: bool = False) -> None:
        with self.lock:
            self.statuses[kind][status] += 1
            if transport and isinstance(status, int):
                self.transport[status] += 1

    def fail(self, kind: str, case: str, message: str) -> None:
        with self.lock:
            entry = self.failures.setdefault((kind, case), [message, 0])
            entry[1] += 1

    def note(self, message: str) -> None:
        with self.lock:
            if message not in self.notes:
                self.notes.append(message)


R = Results()


# ---------------------------------------------------------------------------- raw HTTP

class Response:
    def __init__(self, status: int, headers: dict, body: bytes, elapsed: float):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def json(self):
        return json.loads(self.body.decode("utf-8"))  # strict: the server must send valid UTF-8


class Hang(Exception):
    pass


class Conn:
    """One client connection with a byte buffer, so pipelined answers can be read one by one."""

    def __init__(self, port: int, rcvbuf: int | None = None, timeout: float = HANG):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.eof = False       # the server closed (FIN)
        self.reset = False     # ... or reset the connection
        self.send_failed = False
        self.t0 = time.monotonic()

    def send(self, data: bytes) -> bool:
        """False when the server has closed the connection."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.send_failed = True  # an answer sent before the close may still be readable
            return False

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _fill(self, deadline: float) -> bool:
        if self.eof or self.reset:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise Hang()
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Hang() from None
        except ConnectionResetError:
            self.reset = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def response(self, within: float = HANG, head: bool = False) -> Response | None:
        """The next answer (interim 1xx answers included); None when the server closed
        before sending a byte of it. Raises Hang after `within` seconds."""
        start = time.monotonic()
        deadline = start + within
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                if self.buf:
                    raise ValueError(f"connection closed inside an answer's head: {self.buf[:80]!r}")
                return None
        head_bytes, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"HTTP/1\.[01] (\d{3}) .*", lines[0])
        if not m:
            raise ValueError(f"bad status line {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(m.group(1))
        length = 0 if head or status < 200 else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            if not self._fill(deadline):
                raise ValueError(f"connection closed inside a body ({len(self.buf)} of {length} bytes)")
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, headers, body, time.monotonic() - start)

    def final_response(self, within: float = HANG) -> Response | None:
        deadline = time.monotonic() + within
        while True:
            r = self.response(max(0.001, deadline - time.monotonic()))
            if r is None or r.status >= 200:
                return r

    def closed_within(self, seconds: float) -> str:
        """'closed' when the server closes (FIN or reset) within `seconds` without sending
        more; 'data' if it sends more bytes; 'open' if it is still open."""
        if self.buf:
            return "data"
        try:
            got = self._fill(time.monotonic() + seconds)
        except Hang:
            return "open"
        return "data" if got else "closed"

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def request_bytes(method: str, path: str, body: bytes | None = None, extra: str = "", close: bool = False) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return (head + extra + "\r\n").encode() + (body or b"")


def strip_latency(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "latency_us"}


def check_error_body(kind: str, case: str, r: Response) -> None:
    """Every error is {"error": str[, "field": str]} as JSON (docs/contracts/error.schema.json)."""
    try:
        doc = r.json()
    except (UnicodeDecodeError, ValueError) as e:
        R.fail(kind, case, f"{r.status} body is not valid UTF-8 JSON ({e}): {r.body[:120]!r}")
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("error"), str) or set(doc) - {"error", "field"} or \
            ("field" in doc and not isinstance(doc["field"], str)):
        R.fail(kind, case, f"{r.status} body is not the error shape: {r.body[:120]!r}")
    if not r.headers.get("content-type", "").startswith("application/json"):
        R.fail(kind, case, f"{r.status} Content-Type {r.headers.get('content-type')!r}")


# ---------------------------------------------------------------------------- abuse cases

class Ctx:
    """What every case needs: the port, the valid body and its answer."""

    def __init__(self, port: int, features: list[str], body: dict, answer: dict):
        self.port, self.features, self.body, self.answer = port, features, body, answer
        self.body_bytes = json.dumps(body).encode()


def one_shot(ctx: Ctx, kind: str, case: str, data: bytes, allowed: set, transport: bool = True,
             must_close: bool = True, max_time: float = HANG, shut: bool = False) -> Response | None:
    """Sends `data` on a fresh connection and checks the answer: its status is in `allowed`
    (None there means "closed without an answer" is fine), an error answer is JSON, and the
    connection is closed after it when `must_close`. Never waits longer than `max_time`."""
    R.sent(kind)
    conn = Conn(ctx.port)
    try:
        conn.send(data)
        if shut:
            conn.shutdown_write()
        try:
            r = conn.final_response(max_time)
        except Hang:
            R.saw(kind, "hang")
            R.fail(kind, case, f"no answer and not closed within {max_time:.1f} s")
            return None
        except ValueError as e:
            R.saw(kind, "garbled")
            R.fail(kind, case, str(e))
            return None
        if r is None:
            R.saw(kind, "closed" if not conn.reset else "reset")
            if None not in allowed:
                R.fail(kind, case, f"closed without an answer; expected {sorted(s for s in allowed if s)}")
            return None
        R.saw(kind, r.status, transport=transport and r.status in (400, 408, 413, 431))
        if r.status not in allowed:
            R.fail(kind, case, f"status {r.status}, expected one of {sorted(map(str, allowed))}: {r.body[:150]!r}")
        if r.status >= 400:
            check_error_body(kind, case, r)
        if must_close and r.status >= 400:
            state = conn.closed_within(1.5)
            if state != "closed":
                R.fail(kind, case, f"after {r.status} the connection is {state}, expected closed"
                       + (f" (next bytes: {conn.buf[:60]!r})" if conn.buf else ""))
        return r
    finally:
        conn.close()


def malformed_cases(rng: random.Random) -> list[tuple[str, bytes, set]]:
    """(name, bytes, allowed statuses) for broken request lines and headers."""
    ok = b"GET /health HTTP/1.1\r\nHost: x\r\n"
    cases = [
        ("bad method G@T", b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("method with NUL", b"GE\x00T /health HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("line starts with a space", b" /health HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("empty method", b"\r\n\r\n", {400}),
        ("version HTTP/2.0", b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", {400, 505}),
        ("version HTTP/9.9", b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", {400, 505}),
        ("version HTTP/1.x", b"GET /health HTTP/1.x\r\nHost: x\r\n\r\n", {400}),
        ("version HTTP/11", b"GET /health HTTP/11\r\nHost: x\r\n\r\n", {400}),
        ("version HTTX/1.1", b"GET /health HTTX/1.1\r\nHost: x\r\n\r\n", {400}),
        ("version HTTP/1.1.1", b"GET /health HTTP/1.1.1\r\nHost: x\r\n\r\n", {400}),
        ("no version (HTTP/0.9)", b"GET /health\r\n\r\n", {400}),
        ("header without colon", ok + b"X-Broken header\r\n\r\n", {400}),
        ("space before colon", b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", {400}),
        ("empty header name", ok + b": value\r\n\r\n", {400}),
        ("NUL in header value", ok + b"X-A: a\x00b\r\n\r\n", {400}),
        ("NUL in header name", ok + b"X-\x00A: b\r\n\r\n", {400}),
        ("CR without LF in request line", b"GET /health HTTP/1.1\rHost: x\r\n\r\n", {400}),
        ("CR without LF in header", ok + b"X-A: a\rX-B: b\r\n\r\n", {400}),
        ("control byte in target", b"GET /hea\x01lth HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("URL over 8 KiB", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400, 414, 431}),
        ("URL over 16 KiB", b"GET /?" + b"q" * 17000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400, 414, 431}),
        ("Content-Length abc", b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", {400}),
        ("Content-Length -1", b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", {400}),
        ("Content-Length 1,2", b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n{}", {400}),
        ("two Content-Lengths", b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
         {400}),
        ("Content-Length overflow", b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
         {400, 413}),
        ("Content-Length and chunked",
         b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}),
        ("bad chunk size", b"POST /infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
         {400}),
        ("chunk size overflow",
         b"POST /infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
         {400, 413}),
    ]
    # Random garbage that starts with a byte no HTTP method can start with (so the
    # parser can reject it at once instead of waiting for more).
    not_token = bytes(b for b in range(256) if not (chr(b).isalnum() or chr(b) in "!#$%&'*+-.^_`|~"))
    for i in range(8):
        junk = bytes([rng.choice(not_token)]) + rng.randbytes(rng.randint(0, 300)) + b"\r\n\r\n"
        cases.append((f"garbage #{i}", junk, {400}))
    return cases


# Request-smuggling shapes: a Transfer-Encoding whose final coding is not chunked makes a
# request's length undeterminable; RFC 9112 §6.3 (4): the server MUST answer 400 and close.
# The bytes after the head are a complete second request that must not be answered.
SMUGGLE_CASES = [
    ("Transfer-Encoding gzip", "Transfer-Encoding: gzip\r\n"),
    ("Transfer-Encoding chunked, gzip", "Transfer-Encoding: chunked, gzip\r\n"),
    ("Transfer-Encoding identity", "Transfer-Encoding: identity\r\n"),
]


def run_smuggle(ctx: Ctx, kind: str, name: str, header: str) -> None:
    R.sent(kind)
    conn = Conn(ctx.port)
    try:
        conn.send(f"POST /infer HTTP/1.1\r\nHost: x\r\n{header}\r\n".encode() + request_bytes("GET", "/health", close=True))
        try:
            r = conn.final_response()
            nxt = conn.final_response() if r is not None else None
        except (Hang, ValueError) as e:
            R.fail(kind, name, f"no clean answer: {e!r}")
            return
        if r is None:
            R.saw(kind, "closed")
            return
        R.saw(kind, r.status)
        if r.status not in (400, 501):
            R.fail(kind, name, f"status {r.status}, expected 400 (RFC 9112 §6.3: length cannot be determined)")
        if nxt is not None:
            R.fail(kind, name, f"the bytes after the head were answered as a second request ({nxt.status} "
                   f"{nxt.body[:40]!r}): request smuggling; expected 400 and close")
    finally:
        conn.close()


def truncated_cases(ctx: Ctx, rng: random.Random) -> list[tuple[str, bytes]]:
    full = request_bytes("POST", "/infer", ctx.body_bytes)
    head_end = full.index(b"\r\n\r\n")
    cut = rng.randint(1, head_end + 1)
    chunked = (b"POST /infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % len(ctx.body_bytes) + ctx.body_bytes[: rng.randint(0, len(ctx.body_bytes) - 1)])
    body_cut = rng.randint(0, len(ctx.body_bytes) - 1)
    return [
        ("head cut at %d" % cut, full[:cut]),
        ("body cut (Content-Length larger than sent)", full[: head_end + 4 + body_cut]),
        ("Content-Length 1000, 10 bytes sent",
         b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b'{"features"'[:10]),
        ("chunked body cut mid-chunk", chunked),
        ("request line only", b"GET /health HTTP/1.1\r\n"),
    ]


def oversized(ctx: Ctx, kind: str, rng: random.Random, i: int) -> None:
    """One oversized request, by variant i."""
    v = i % 12
    big_cl = b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
    if v == 0:
        # Only the head: the 413 must come from the Content-Length alone, long before the
        # request timeout, i.e. without waiting for (reading) the body.
        r = one_shot(ctx, kind, "Content-Length 10 MB, head only", big_cl, {413}, max_time=REQUEST_TIMEOUT * 0.5)
        if r is not None and r.elapsed > REQUEST_TIMEOUT * 0.5:
            R.fail(kind, "Content-Length 10 MB", f"413 took {r.elapsed:.2f} s")
    elif v == 1:
        one_shot(ctx, kind, "Content-Length 10 MB, Expect: 100-continue",
                 big_cl[:-2] + b"Expect: 100-continue\r\n\r\n", {413}, max_time=REQUEST_TIMEOUT * 0.5)
    elif v == 2:
        body = b"x" * (MAX_BODY + 1)
        one_shot(ctx, kind, "body of max_body_bytes + 1", request_bytes("POST", "/infer", body), {413})
    elif v == 3:
        # 100 000 nested arrays: over the body limit.
        body = b"[" * 100_000 + b"]" * 100_000
        one_shot(ctx, kind, "[[[...]]] 100k deep", request_bytes("POST", "/infer", body), {413})
    elif v == 4:
        chunked_growing(ctx, kind)
    elif v == 5:
        one_shot(ctx, kind, "one 20 KB header", request_bytes("GET", "/health", extra="X-Big: " + "b" * 20000 + "\r\n"),
                 {431})
    elif v == 6:
        extra = "".join(f"X-Pad-{n:03d}: {'p' * 100}\r\n" for n in range(150))  # ≈ 16.5 KB
        one_shot(ctx, kind, "headers of 16 KB (150 × 110 B)", request_bytes("GET", "/health", extra=extra), {431})
    elif v == 7:
        # Just over the 8 KiB of the contract, sent in one write.
        extra = "".join(f"X-Pad-{n:03d}: {'p' * 100}\r\n" for n in range(HEADER_LIMIT // 113 + 12))
        data = request_bytes("GET", "/health", extra=extra)
        one_shot(ctx, kind, f"headers of {len(data)} bytes in one write (over 8 KiB)", data, {431})
    elif v == 8:
        # A 10 MB body that the client keeps sending after the 413: a reset before the
        # answer is read is a TCP race the server cannot fully prevent; noted, not failed.
        R.sent(kind)
        conn = Conn(ctx.port)
        try:
            conn.send(big_cl)
            chunk = rng.randbytes(65536)
            for _ in range(160):
                if not conn.send(chunk):
                    break
            try:
                r = conn.final_response()
            except (Hang, ValueError) as e:
                R.fail(kind, "10 MB body streamed", repr(e))
                return
            if r is None:
                R.saw(kind, "reset")
                R.note("a 10 MB upload lost its 413 to the connection reset (no lingering close)")
            else:
                R.saw(kind, r.status, transport=True)
                if r.status != 413:
                    R.fail(kind, "10 MB body streamed", f"status {r.status}")
        finally:
            conn.close()
    elif v == 9:
        # Exactly max_body_bytes is allowed: the valid body padded through the echoed `symbol`.
        doc = dict(ctx.body, symbol="")
        pad = MAX_BODY - len(json.dumps(doc).encode())
        doc["symbol"] = "s" * pad
        body = json.dumps(doc).encode()
        assert len(body) == MAX_BODY
        r = one_shot(ctx, kind, "body of exactly max_body_bytes", request_bytes("POST", "/infer", body), {200},
                     transport=False, must_close=False)
        if r is not None and r.status == 200:
            got = strip_latency(r.json())
            want = dict(strip_latency(ctx.answer), symbol=doc["symbol"])
            if got != want:
                R.fail(kind, "body of exactly max_body_bytes", "answer differs from the baseline")
    elif v == 10:
        extra = "".join(f"X-Many-{n}: 1\r\n" for n in range(1000))  # 1000 tiny headers ≈ 14 KB
        one_shot(ctx, kind, "1000 headers", request_bytes("GET", "/health", extra=extra), {431})
    else:
        body = b'{"features":{' + b",".join(b'"f%d":1' % n for n in range(8000)) + b"}}"  # ≈ 70 KB
        one_shot(ctx, kind, "8000 features (70 KB)", request_bytes("POST", "/infer", body), {413})


def chunked_growing(ctx: Ctx, kind: str) -> None:
    """A chunked body that grows past max_body_bytes, 4 KiB per chunk: 413, then close."""
    R.sent(kind)
    conn = Conn(ctx.port)
    case = "chunked body growing past the limit"
    try:
        conn.send(b"POST /infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"1000\r\n" + b"c" * 4096 + b"\r\n"
        sent = 0
        for _ in range(2 * MAX_BODY // 4096):
            if not conn.send(chunk):
                break
            sent += 4096
        try:
            r = conn.final_response()
        except (Hang, ValueError) as e:
            R.fail(kind, case, f"{e!r} after {sent} body bytes")
            return
        if r is None:
            R.saw(kind, "reset")
            R.note("a chunked upload past the limit lost its 413 to the connection reset")
            return
        R.saw(kind, r.status, transport=True)
        if r.status != 413:
            R.fail(kind, case, f"status {r.status}")
        check_error_body(kind, case, r)
        if conn.closed_within(1.5) != "closed":
            R.fail(kind, case, "not closed after 413")
    finally:
        conn.close()


def bad_json_bodies(ctx: Ctx, rng: random.Random) -> list[tuple[str, bytes, set]]:
    """(name, body, allowed statuses) for valid HTTP with bad /infer bodies."""
    f = ctx.features
    valid = ctx.body["features"]

    def with_feats(**changes) -> bytes:
        feats = dict(valid)
        for k, v in changes.items():
            if v is Ellipsis:
                feats.pop(k, None)
            else:
                feats[k] = v
        return json.dumps({"features": feats}).encode()

    def raw_feature(literal: str) -> bytes:  # the first feature's value as a raw literal
        s = json.dumps({"features": dict(valid, **{f[0]: 0.125})})
        return s.replace(f'"{f[0]}": 0.125', f'"{f[0]}": {literal}').encode()

    b400 = {400}
    cases = [
        ("empty body", b"", b400), ("null", b"null", b400), ("array", b"[]", b400), ("string", b'"features"', b400),
        ("number", b"42", b400), ("true", b"true", b400), ("just {", b"{", b400), ("trailing comma", b'{"features":{},}', b400),
        ("trailing garbage", ctx.body_bytes + b"x", b400), ("two documents", ctx.body_bytes + ctx.body_bytes, b400),
        ("single quotes", b"{'features':{}}", b400), ("comment", b'/*c*/{"features":{}}', b400),
        ("deep [[[...]]] 30k", b"[" * 30000 + b"]" * 30000, b400),
        ("deep unclosed [ 60k", b"[" * 60000, b400),
        ("deep features", b'{"features":' + b"[" * 30000 + b"]" * 30000 + b"}", b400),
        ("deep objects 10k", b'{"a":' * 10000 + b"1" + b"}" * 10000, b400),
        ("deep rows", b'{"rows":[' + b"[" * 30000 + b"]" * 30000 + b"]}", b400),
        ("1e999", raw_feature("1e999"), b400), ("-1e999", raw_feature("-1e999"), b400),
        ("400-digit integer", raw_feature("9" * 400), b400), ("1e300 (not a float)", raw_feature("1e300"), b400),
        ("3.5e38 (over FLT_MAX)", raw_feature("3.5e38"), b400), ("-1e39", raw_feature("-1e39"), b400),
        ("NaN", raw_feature("NaN"), b400), ("nan", raw_feature("nan"), b400), ("Infinity", raw_feature("Infinity"), b400),
        ("-Infinity", raw_feature("-Infinity"), b400), ('"NaN" string', raw_feature('"NaN"'), b400),
        ("hex number", raw_feature("0x10"), b400), ("leading zeros", raw_feature("0012"), b400),
        ("plus sign", raw_feature("+1"), b400), ("bare dot", raw_feature(".5"), b400),
        ("invalid UTF-8 in a value", b'{"symbol":"\xff\xfe","features":{}}', b400),
        ("invalid UTF-8 in a key", b'{"features":{"\xc3\x28":1}}', b400),
        ("overlong UTF-8", b'{"symbol":"\xc0\xaf","features":{}}', b400),
        ("UTF-8 surrogate bytes", b'{"symbol":"\xed\xa0\x80","features":{}}', b400),
        ("lone surrogate escape", b'{"symbol":"\\ud800","features":{}}', b400),
        ("truncated UTF-8", b'{"symbol":"\xe2\x82', b400),
        ("raw control char in string", b'{"symbol":"a\x01b","features":{}}', b400),
        ("bad escape", b'{"symbol":"\\q","features":{}}', b400),
        ("features is an array", json.dumps({"features": list(valid.values())}).encode(), b400),
        ("features is a string", b'{"features":"all"}', b400), ("features is null", b'{"features":null}', b400),
        ("feature is a string", with_feats(**{f[0]: "0.1"}), b400),
        ("feature is true", with_feats(**{f[0]: True}), b400), ("feature is null", with_feats(**{f[0]: None}), b400),
        ("feature is an object", with_feats(**{f[0]: {"v": 1}}), b400),
        ("feature is an array", with_feats(**{f[0]: [1]}), b400),
        ("missing feature", with_feats(**{f[-1]: Ellipsis}), b400),
        ("unknown feature", with_feats(not_a_feature=1.0), b400),
        ("unknown feature, long UTF-8 name", with_feats(**{"é" * 100: 1.0}), b400),
        ("model is a number", json.dumps({"model": 1, "features": valid}).encode(), b400),
        ("unknown model", json.dumps({"model": "nope", "features": valid}).encode(), {404}),
        ("version 1.5", json.dumps({"version": 1.5, "features": valid}).encode(), b400),
        ('version "latest"', json.dumps({"version": "latest", "features": valid}).encode(), b400),
        ("version true", json.dumps({"version": True, "features": valid}).encode(), b400),
        ("version 99", json.dumps({"version": 99, "features": valid}).encode(), {404}),
        ("version 2^64-1", b'{"version":18446744073709551615,"features":' + json.dumps(valid).encode() + b"}", {404}),
        ("symbol is a number", json.dumps({"symbol": 5, "features": valid}).encode(), b400),
        ("ts is an object", json.dumps({"ts": {}, "features": valid}).encode(), b400),
        ("unknown top-level field", json.dumps({"features": valid, "extra": 1}).encode(), b400),
        ("features and rows", json.dumps({"features": valid, "rows": [valid]}).encode(), b400),
        ("neither features nor rows", b'{"symbol":"WIN"}', b400), ("empty object", b"{}", b400),
        ("rows empty", b'{"rows":[]}', b400), ("rows is an object", json.dumps({"rows": valid}).encode(), b400),
        ("1025 rows", json.dumps({"rows": [{}] * 1025}).encode(), b400),
        ("a bad row among good ones", json.dumps({"rows": [valid, valid, dict(valid, **{f[1]: "x"})]}).encode(), b400),
        ("row is a number", json.dumps({"rows": [valid, 7]}).encode(), b400),
    ]
    # Duplicate keys: JSON leaves them undefined and the contract is silent; the answer
    # must be a clean 200 (last value wins) or 400, never anything else.
    cases += [
        ("duplicate top-level key", b'{"features":{"x":1},' + ctx.body_bytes[1:], {200, 400}),
        ("duplicate feature key", ('{"features": {"%s": "dup", ' % f[0]).encode() + json.dumps(valid).encode()[1:] + b"}",
         {200, 400}),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + ctx.body_bytes, {200, 400}),
        ("1e-400 (underflow)", raw_feature("1e-400"), {200, 400}),
    ]
    # Random bytes (never JSON objects), and random one-byte mutations of the valid body.
    for i in range(400):
        junk = rng.randbytes(rng.randint(1, 600))
        if junk.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"{":
            junk = b"\x00" + junk
        cases.append((f"random bytes #{i}", junk, b400))
    for i in range(400):
        body = bytearray(ctx.body_bytes)
        pos = rng.randrange(len(body))
        op = rng.randrange(3)
        if op == 0:
            body[pos] = rng.randrange(256)
        elif op == 1:
            del body[pos]
        else:
            body.insert(pos, rng.randrange(256))
        cases.append((f"mutated body #{i}", bytes(body), {200, 400, 404}))
    return cases


def json_batch(ctx: Ctx, kind: str, cases: list[tuple[str, bytes, set]]) -> None:
    """Sends the cases one after another on one keep-alive connection: each gets its status
    with an error body that is JSON, and the connection stays usable."""
    conn = Conn(ctx.port)
    try:
        for name, body, allowed in cases:
            R.sent(kind)
            if not conn.send(request_bytes("POST", "/infer", body)):
                R.fail(kind, name, "connection closed by the server before the request was sent")
                return
            try:
                r = conn.final_response()
            except (Hang, ValueError) as e:
                R.saw(kind, "hang")
                R.fail(kind, name, repr(e))
                return
            if r is None:
                R.saw(kind, "closed")
                R.fail(kind, name, "connection closed instead of an answer")
                return
            R.saw(kind, r.status)
            if r.status not in allowed:
                R.fail(kind, name, f"status {r.status}, expected {sorted(allowed)}: {r.body[:150]!r}")
            if r.status >= 400:
                check_error_body(kind, name, r)
            elif r.status == 200:
                try:
                    doc = r.json()
                    if not isinstance(doc.get("prob"), (int, float)):
                        raise ValueError("no prob")
                except ValueError as e:
                    R.fail(kind, name, f"200 with a bad body ({e}): {r.body[:120]!r}")
                if name.startswith("duplicate"):
                    R.note(f"{name}: the server answers 200 (last value wins); the contract does not say")
            if r.headers.get("connection", "").lower() == "close":
                R.fail(kind, name, f"{r.status} closed a keep-alive connection")
                return
    finally:
        conn.close()


def route_cases() -> list[tuple[str, bytes, set, str | None, bool]]:
    """(name, request, allowed statuses, Allow header or None, head request)."""
    G, P = "GET", "POST"
    c = []
    for method, path, allow in [(G, "/infer", "POST"), (G, "/order", "POST"), (G, "/admin/reload", "POST"),
                                (P, "/health", "GET"), (P, "/ready", "GET"), (P, "/models", "GET"), (P, "/metrics", "GET"),
                                ("PUT", "/infer", "POST"), ("DELETE", "/models", "GET"), ("PATCH", "/infer", "POST"),
                                ("OPTIONS", "/infer", "POST"), ("BREW", "/ready", "GET"), ("CONNECT", "/health", "GET")]:
        body = b"{}" if method in (P, "PUT", "PATCH") else None
        c.append((f"{method} {path}", request_bytes(method, path, body), {405}, allow, False))
    for path in ["/", "/nope", "/infer/", "/INFER", "//infer", "/infer%00", "/../health", "/health/..", "/%2e%2e/",
                 "/admin", "/admin/reload/x", "/" + "x" * 2000]:
        c.append((f"GET {path[:40]}", request_bytes(G, path), {404}, None, False))
    c.append(("GET *", request_bytes(G, "*"), {400, 404}, None, False))
    # RFC 9112 §3.2.2: a server MUST accept the absolute form; 404 (not routed) is tolerated.
    c.append(("GET absolute-form /health", request_bytes(G, "http://127.0.0.1/health"), {200, 404}, None, False))
    c.append(("POST /nope with a body", request_bytes(P, "/nope", b'{"a":1}'), {404}, None, False))
    c.append(("GET /health?x=1&y", request_bytes(G, "/health?x=1&y"), {200}, None, False))
    c.append(("POST /order without a token", request_bytes(P, "/order", b"{}"), {401}, None, False))
    c.append(("POST /admin/reload with a wrong token",
              request_bytes(P, "/admin/reload", b"", extra="Authorization: Bearer wrong\r\n"), {401}, None, False))
    # HEAD: whatever the status, the answer has no body (RFC 9110 §9.3.2); the GET after it
    # on the same connection must be answered as such.
    c.append(("HEAD /health", request_bytes("HEAD", "/health"), {200, 405}, None, True))
    return c


def run_route(ctx: Ctx, kind: str, case) -> None:
    name, data, allowed, allow, head = case
    R.sent(kind, 2)
    conn = Conn(ctx.port)
    try:
        conn.send(data + request_bytes("GET", "/health", close=True))
        try:
            r = conn.response(head=head)
        except (Hang, ValueError) as e:
            R.fail(kind, name, f"no clean answer: {e!r}")
            return
        try:
            nxt = conn.final_response()
        except (Hang, ValueError) as e:
            extra = ""
            if head and r is not None and r.headers.get("content-length", "0") != "0":
                extra = (f" (the HEAD answer announced Content-Length {r.headers['content-length']} and sent a body,"
                         " so the connection is out of step)")
            R.fail(kind, name, f"the GET /health after it on the same connection: {e}{extra}")
            return
        if r is None:
            R.fail(kind, name, "closed without an answer")
            return
        R.saw(kind, r.status)
        if r.status not in allowed:
            R.fail(kind, name, f"status {r.status}, expected {sorted(allowed)}: {r.body[:120]!r}")
        elif r.status >= 400 and not head:
            check_error_body(kind, name, r)
        if allow is not None and r.headers.get("allow") != allow:
            R.fail(kind, name, f"Allow {r.headers.get('allow')!r}, expected {allow!r}")
        if r.status == 405 and not r.headers.get("allow"):
            R.fail(kind, name, "405 without an Allow header")
        if r.status == 401 and r.headers.get("www-authenticate") != "Bearer":
            R.fail(kind, name, "401 without WWW-Authenticate: Bearer")
        if nxt is None or nxt.status != 200 or nxt.body != b'{"status":"ok"}':
            detail = "nothing" if nxt is None else f"{nxt.status} {nxt.body[:60]!r}"
            R.fail(kind, name, f"the GET /health after it on the same connection got {detail}")
    finally:
        conn.close()


def pipelined(ctx: Ctx, kind: str, rng: random.Random, i: int) -> None:
    """Several requests in one write: the answers come back complete and in order."""
    v = i % 3
    a = dict(ctx.body, symbol=f"A{i}")
    b = dict(ctx.body, symbol=f"B{i}")
    if v == 0:
        reqs = [(request_bytes("POST", "/infer", json.dumps(a).encode()), 200, a["symbol"]),
                (request_bytes("POST", "/infer", json.dumps(b).encode(), close=True), 200, b["symbol"])]
    elif v == 1:
        reqs = [(request_bytes("POST", "/infer", json.dumps(a).encode()), 200, a["symbol"]),
                (request_bytes("POST", "/infer", b"[[[" + rng.randbytes(8)), 400, None),
                (request_bytes("GET", "/nope"), 404, None),
                (request_bytes("POST", "/infer", json.dumps(b).encode(), close=True), 200, b["symbol"])]
    else:
        reqs = [(request_bytes("GET", "/health"), 200, None) for _ in range(40)]
        reqs.append((request_bytes("POST", "/infer", json.dumps(b).encode(), close=True), 200, b["symbol"]))
    R.sent(kind, len(reqs))
    conn = Conn(ctx.port)
    case = f"{len(reqs)} pipelined requests (variant {v})"
    try:
        conn.send(b"".join(r[0] for r in reqs))
        for n, (_, status, symbol) in enumerate(reqs):
            try:
                r = conn.final_response()
            except (Hang, ValueError) as e:
                R.fail(kind, case, f"answer {n + 1}: {e!r}")
                return
            if r is None:
                R.fail(kind, case, f"closed after {n} of {len(reqs)} answers")
                return
            R.saw(kind, r.status)
            if r.status != status:
                R.fail(kind, case, f"answer {n + 1} has status {r.status}, expected {status}")
            if symbol is not None:
                doc = r.json()
                if doc.get("symbol") != symbol:
                    R.fail(kind, case, f"answer {n + 1} is for {doc.get('symbol')!r}, expected {symbol!r} (out of order)")
                elif strip_latency(doc) != dict(strip_latency(ctx.answer), symbol=symbol):
                    R.fail(kind, case, f"answer {n + 1} differs from the baseline")
        if conn.closed_within(1.5) != "closed":
            R.fail(kind, case, "not closed after Connection: close")
    finally:
        conn.close()


# ---------------------------------------------------------------------------- slow clients

def slowloris(ctx: Ctx, kind: str, n_head: int, n_body: int, n_continue: int) -> None:
    """Clients that send a byte every 200 ms (in the head, or in the body) and clients that
    ask for 100-continue and then send nothing: each gets 408 about REQUEST_TIMEOUT after
    its first byte, and the connection closes."""
    sel = selectors.DefaultSelector()
    clients = []
    head = b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n" + b"{" * 200
    for i in range(n_head + n_body + n_continue):
        conn = Conn(ctx.port)
        conn.sock.setblocking(False)
        if i < n_head:
            label, pending = "head a byte every 200 ms", head
        elif i < n_head + n_body:
            label, pending = "body a byte every 200 ms", head
            conn.sock.sendall(head[: head.index(b"\r\n\r\n") + 4])  # the whole head, then the body slowly
            pending = head[head.index(b"\r\n\r\n") + 4:]
        else:
            label = "100-continue, then nothing"
            conn.sock.sendall(b"POST /infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n")
            pending = b""
        clients.append({"conn": conn, "label": label, "pending": pending, "start": time.monotonic(), "done": False})
        sel.register(conn.sock, selectors.EVENT_READ, clients[-1])
        R.sent(kind)
    deadline = time.monotonic() + REQUEST_TIMEOUT + HANG
    next_byte = time.monotonic()
    while time.monotonic() < deadline and not all(c["done"] for c in clients):
        now = time.monotonic()
        if now >= next_byte:
            for c in clients:
                if not c["done"] and c["pending"]:
                    try:
                        c["conn"].sock.send(c["pending"][:1])
                        c["pending"] = c["pending"][1:]
                    except OSError:
                        pass
            next_byte = now + 0.2
        for key, _ in sel.select(timeout=max(0.0, min(next_byte, deadline) - time.monotonic())):
            c = key.data
            conn = c["conn"]
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            if data:
                conn.buf += data
                continue
            # Closed: judge what arrived before.
            c["done"] = True
            sel.unregister(conn.sock)
            elapsed = time.monotonic() - c["start"]
            statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", conn.buf)]
            final = [s for s in statuses if s >= 200]
            R.saw(kind, final[-1] if final else "closed", transport=bool(final) and final[-1] == 408)
            if final != [408]:
                R.fail(kind, c["label"], f"answers {statuses}, expected 408 then close: {conn.buf[:100]!r}")
            elif not REQUEST_TIMEOUT * 0.8 <= elapsed <= REQUEST_TIMEOUT + 1.5:
                R.fail(kind, c["label"], f"408 and close after {elapsed:.2f} s, expected about {REQUEST_TIMEOUT} s")
            elif c["label"].startswith("100") and statuses[:1] != [100]:
                R.fail(kind, c["label"], f"no interim 100 Continue before the 408: {statuses}")
            else:
                body = conn.buf.split(b"\r\n\r\n")[-1]
                try:
                    if not isinstance(json.loads(body).get("error"), str):
                        raise ValueError
                except ValueError:
                    R.fail(kind, c["label"], f"408 body is not the error JSON: {body[:80]!r}")
    for c in clients:
        if not c["done"]:
            R.saw(kind, "hang")
            R.fail(kind, c["label"], f"still open after {time.monotonic() - c['start']:.1f} s "
                   f"(got {c['conn'].buf[:80]!r})")
        c["conn"].close()
    sel.close()


def idle_connections(ctx: Ctx, kind: str, n: int) -> None:
    """n keep-alive connections held open: half after one answered request, half without
    sending anything; all must be closed by the server about IDLE_TIMEOUT later."""
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(n):
        conn = Conn(ctx.port)
        R.sent(kind)
        if i % 2 == 0:
            conn.send(request_bytes("GET", "/health"))
            r = conn.final_response()
            if r is None or r.status != 200:
                R.fail(kind, "keep-alive GET /health", f"got {None if r is None else r.status}")
            label = "idle after one request"
        else:
            label = "connected, never sent a byte"
        conn.sock.setblocking(False)
        conns.append({"conn": conn, "label": label, "since": time.monotonic(), "closed": None})
        sel.register(conn.sock, selectors.EVENT_READ, conns[-1])
    deadline = time.monotonic() + IDLE_TIMEOUT + 3.0
    open_left = n
    while open_left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            c = key.data
            try:
                data = c["conn"].sock.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            sel.unregister(c["conn"].sock)
            open_left -= 1
            c["closed"] = time.monotonic() - c["since"]
            R.saw(kind, "closed")
            if data:
                R.fail(kind, c["label"], f"unexpected bytes instead of a close: {data[:60]!r}")
            elif not IDLE_TIMEOUT * 0.8 <= c["closed"] <= IDLE_TIMEOUT + 2.0:
                R.fail(kind, c["label"], f"closed after {c['closed']:.2f} s, expected about {IDLE_TIMEOUT} s")
    for c in conns:
        if c["closed"] is None:
            R.saw(kind, "hang")
            R.fail(kind, c["label"], f"still open {time.monotonic() - c['since']:.1f} s later "
                   f"(idle_timeout is {IDLE_TIMEOUT} s)")
        c["conn"].close()
    sel.close()


def tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of a client socket (1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT, ...)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def non_reader(ctx: Ctx, kind: str) -> None:
    """A client that sends request after request (GET /metrics, ~12 KB answers) and never
    reads: once the server's writes stall it must disconnect within about REQUEST_TIMEOUT."""
    conn = Conn(ctx.port, rcvbuf=4096)
    case = "pipelines GET /metrics, never reads"
    req = request_bytes("GET", "/metrics")
    start = time.monotonic()
    stalled_at = None
    R.sent(kind)
    try:
        conn.sock.setblocking(False)
        while time.monotonic() - start < 15:
            if tcp_state(conn.sock) != 1:  # the server closed (FIN: CLOSE_WAIT) or reset (CLOSE)
                R.saw(kind, "disconnected")
                if stalled_at is not None and time.monotonic() - stalled_at > REQUEST_TIMEOUT + 2.0:
                    R.fail(kind, case, f"disconnected {time.monotonic() - stalled_at:.1f} s after the client stalled")
                return
            if stalled_at is None:
                try:
                    sent = conn.sock.send(req * 50)  # whole requests only: stop at the first short write
                    if sent < len(req) * 50:
                        stalled_at = time.monotonic()
                except BlockingIOError:
                    stalled_at = time.monotonic()
                except (BrokenPipeError, ConnectionResetError):
                    continue
            else:
                time.sleep(0.05)
                if time.monotonic() - stalled_at > REQUEST_TIMEOUT + 3.0:
                    break
        R.saw(kind, "hang")
        R.fail(kind, case, f"still connected {time.monotonic() - start:.1f} s later "
               f"({'stalled' if stalled_at else 'never stalled'})")
    finally:
        conn.close()


def fd_exhaustion(server: sf.Server, ctx: Ctx) -> None:
    """The server out of file descriptors (RLIMIT_NOFILE lowered to 64, then 100 connections):
    it must wait for descriptors without spinning (accept failing with EMFILE), and answer
    again once the connections are gone."""
    kind, case = "fd exhaustion", "100 connections, RLIMIT_NOFILE 64"
    old = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
    conns = []
    try:
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (64, old[1]))
        for _ in range(100):
            conns.append(socket.create_connection(("127.0.0.1", ctx.port), timeout=2))  # the backlog takes the rest
            R.sent(kind)
        time.sleep(0.1)
        c0, t0 = server.cpu_seconds(), time.monotonic()
        time.sleep(0.8)  # well inside IDLE_TIMEOUT: the accepted connections are all still open
        cores = (server.cpu_seconds() - c0) / (time.monotonic() - t0)
        R.saw(kind, f"server CPU {cores:.2f} cores")
        if cores > 0.25:  # idle it is ~0; a spinning accept loop takes whatever CPU it gets
            R.fail(kind, case, f"the server burns {cores:.2f} cores while it cannot accept (a busy accept loop on EMFILE)")
    finally:
        for c in conns:
            c.close()
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, old)
    try:
        status, _, raw = sf.request(server.base_url, "POST", "/infer", ctx.body_bytes, timeout=IDLE_TIMEOUT + 5)
        if status != 200 or strip_latency(json.loads(raw)) != strip_latency(ctx.answer):
            R.fail(kind, "afterwards", f"/infer answered {status} {raw[:120]!r}")
    except OSError as e:
        R.fail(kind, "afterwards", f"/infer failed: {e!r}")


# ---------------------------------------------------------------------------- valid traffic

class ValidStream(threading.Thread):
    """Posts the fixed body on a keep-alive connection until stopped; every answer must be
    200 and equal the baseline (latency aside)."""

    def __init__(self, ctx: Ctx, name: str):
        super().__init__(name=name, daemon=True)
        self.ctx, self.stop_flag, self.count = ctx, threading.Event(), 0

    def run(self) -> None:
        conn = None
        req = request_bytes("POST", "/infer", self.ctx.body_bytes)
        want = strip_latency(self.ctx.answer)
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    conn = Conn(self.ctx.port)
                conn.send(req)
                r = conn.final_response()
                self.count += 1
                R.sent("valid during abuse")
                if r is None:
                    R.fail("valid during abuse", "keep-alive /infer", "connection closed instead of an answer")
                    conn.close()
                    conn = None
                    continue
                R.saw("valid during abuse", r.status)
                if r.status != 200:
                    R.fail("valid during abuse", "keep-alive /infer", f"status {r.status}: {r.body[:120]!r}")
                elif strip_latency(r.json()) != want:
                    R.fail("valid during abuse", "keep-alive /infer", f"answer differs: {r.body[:200]!r}")
            except (Hang, ValueError, OSError) as e:
                R.fail("valid during abuse", "keep-alive /infer", repr(e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def warm_up(ctx: Ctx, total: int) -> None:
    """`total` valid requests over two keep-alive connections, each checked."""
    def run(n: int) -> None:
        conn = Conn(ctx.port)
        req = request_bytes("POST", "/infer", ctx.body_bytes)
        want = strip_latency(ctx.answer)
        try:
            for _ in range(n):
                conn.send(req)
                r = conn.final_response()
                if r is None or r.status != 200 or strip_latency(r.json()) != want:
                    R.fail("warm-up", "keep-alive /infer", f"got {None if r is None else (r.status, r.body[:120])}")
                    return
        finally:
            conn.close()
    threads = [threading.Thread(target=run, args=(total // 2,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---------------------------------------------------------------------------- main

def abuse_round(ctx: Ctx, round_no: int) -> dict:
    """One round of every abuse kind, from several threads, beside two valid streams."""
    t_abuse = time.monotonic()
    seed = SEED + 1000 * round_no
    tasks: list = []
    for rep in range(40):
        for name, data, allowed in malformed_cases(random.Random(seed + rep)):
            tasks.append(("malformed", lambda c, d=data, a=allowed, nm=name: one_shot(c, "malformed", nm, d, a | {None})))
    for rep in range(10):
        for name, header in SMUGGLE_CASES:
            tasks.append(("malformed", lambda c, nm=name, h=header: run_smuggle(c, "malformed", nm, h)))
    for rep in range(80):
        for name, data in truncated_cases(ctx, random.Random(seed * 3 + rep)):
            tasks.append(("truncated", lambda c, d=data, nm=name: one_shot(c, "truncated", nm, d, {None}, shut=True,
                                                                           max_time=1.5)))
    for i in range(12 * 12):
        tasks.append(("oversized", lambda c, i=i: oversized(c, "oversized", random.Random(seed + 7 * i), i)))
    jcases = bad_json_bodies(ctx, random.Random(seed + 1))
    jcases = jcases[: len(jcases) - 800] * 6 + jcases[len(jcases) - 800:]  # the fixed cases 6 times
    random.Random(seed + 2).shuffle(jcases)
    for k in range(0, len(jcases), 40):
        tasks.append(("bad JSON", lambda c, b=jcases[k:k + 40]: json_batch(c, "bad JSON", b)))
    for rep in range(8):
        for case in route_cases():
            tasks.append(("routes", lambda c, cs=case: run_route(c, "routes", cs)))
    for i in range(150):
        tasks.append(("pipelined", lambda c, i=i: pipelined(c, "pipelined", random.Random(seed + 11 * i), i)))
    random.Random(seed + 3).shuffle(tasks)
    work_queue: queue.Queue = queue.Queue()
    for t in tasks:
        work_queue.put(t)

    def abuse_worker() -> None:
        while True:
            try:
                kind, task = work_queue.get_nowait()
            except queue.Empty:
                return
            try:
                task(ctx)
            except Exception as e:  # a client-side surprise is a failed check, not a crash of the test
                R.fail(kind, "unexpected", repr(e))

    streams = [ValidStream(ctx, f"valid-{i}") for i in range(2)]
    slow = [threading.Thread(target=slowloris, args=(ctx, "slow", 16, 8, 8)),
            threading.Thread(target=idle_connections, args=(ctx, "idle keep-alive", 200)),
            threading.Thread(target=non_reader, args=(ctx, "non-reader"))]
    workers = [threading.Thread(target=abuse_worker) for _ in range(ABUSE_THREADS)]
    for t in streams + slow + workers:
        t.start()
    for t in workers + slow:
        t.join(timeout=120)
        if t.is_alive():
            R.fail("harness", t.name, "did not finish in 120 s")
    for s in streams:
        s.stop_flag.set()
    for s in streams:
        s.join(timeout=10)
    valid_during = sum(s.count for s in streams)
    if valid_during < 100:
        R.fail("valid during abuse", "volume", f"only {valid_during} valid requests ran beside the abuse")
    return {"tasks": len(tasks), "valid": valid_during, "seconds": time.monotonic() - t_abuse}




def check_metrics(server: sf.Server) -> None:
    """GET /metrics parses, and counts at least the 400/408/413/431 the transport gave this test."""
    status, headers, raw = sf.request(server.base_url, "GET", "/metrics")
    if status != 200 or not headers.get("content-type", "").startswith("text/plain"):
        R.fail("after", "/metrics", f"status {status}, Content-Type {headers.get('content-type')}")
    try:
        metrics = parse_metrics(raw.decode())
    except (ValueError, UnicodeDecodeError) as e:
        R.fail("after", "/metrics", f"does not parse: {e}")
        return
    counts = {}
    for s in (400, 408, 413, 431):
        key = ("quant_serve_requests_total", frozenset({("endpoint", "transport"), ("status", str(s))}))
        counts[s] = metrics.get(key, 0)
        if counts[s] < max(1, R.transport[s]):
            R.fail("after", "/metrics", f'quant_serve_requests_total{{endpoint="transport",status="{s}"}} is '
                   f"{counts[s]:.0f}, but the transport answered {s} to this test {R.transport[s]} times")
    print("robustness: /metrics transport answers: "
          + ", ".join(f"{s}: {counts[s]:.0f} (this test saw {R.transport[s]})" for s in counts))


def parse_metrics(text: str) -> dict:
    """Prometheus text exposition → {(name, frozenset(labels)): value}; raises on a bad line."""
    out = {}
    line_re = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.fullmatch(line)
        if not m:
            raise ValueError(f"bad metrics line {line!r}")
        labels = frozenset(label_re.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def main() -> int:
    quant = sf.quant_binary(sys.argv)
    t_start = time.monotonic()
    work = sf.work_dir("quant-serve-robustness")
    t0 = time.monotonic()
    models = sf.train_models(quant, work, days=30, seed=7)
    features = sf.manifest_features(models)
    t_models = time.monotonic() - t0
    config = sf.config_text(sf.serve_section(models, workers=WORKERS, max_body_bytes=MAX_BODY,
                                             request_timeout_ms=int(REQUEST_TIMEOUT * 1000),
                                             idle_timeout_ms=int(IDLE_TIMEOUT * 1000)))
    rng = random.Random(SEED)
    body = {"symbol": "WIN", "ts": "2026-11-25T14:03:00Z",
            "features": {name: round(rng.uniform(-1, 1), 6) for name in features}}
    print(f"robustness: models trained in {t_models:.1f} s ({len(features)} features); seed {SEED}")

    server = sf.start_server(quant, work, config, models=models, workers=WORKERS)
    try:
        print(f"robustness: quant serve pid {server.pid} on {server.base_url}")
        # --- baseline
        answers = []
        for _ in range(5):
            status, _, raw = sf.request(server.base_url, "POST", "/infer", body)
            if status != 200:
                print(f"FAIL: baseline /infer answered {status}: {raw[:200]!r}")
                return 1
            answers.append(strip_latency(json.loads(raw)))
        if any(a != answers[0] for a in answers):
            R.fail("baseline", "/infer", f"five identical requests, different answers: {answers}")
        ctx = Ctx(server.port, features, body, json.loads(raw))
        warm_up(ctx, WARMUP)
        rss_before = server.rss_kb()
        print(f"robustness: baseline answer prob={ctx.answer['prob']} q10={ctx.answer['q10']} q90={ctx.answer['q90']}; "
              f"RSS after {WARMUP} valid requests: {rss_before / 1024:.1f} MB")

        # --- abuse, with valid traffic beside it; twice, so that memory kept after the
        # first round (allocator high-water marks) can be told from memory that keeps growing
        rounds = []
        for round_no in range(ROUNDS):
            rounds.append(abuse_round(ctx, round_no))
            warm_up(ctx, WARMUP)
            rounds[-1]["rss"] = server.rss_kb() if server.alive() else 0
            print(f"robustness: round {round_no + 1}: {rounds[-1]['tasks']} abuse tasks, {rounds[-1]['valid']} valid "
                  f"requests beside them, {rounds[-1]['seconds']:.1f} s; RSS after {WARMUP} more valid requests "
                  f"{rounds[-1]['rss'] / 1024:.1f} MB")

        if server.alive():
            fd_exhaustion(server, ctx)

        # --- afterwards
        if not server.alive():
            R.fail("after", "process", f"quant serve died (exit {server.proc.returncode})")
        else:
            status, _, raw = sf.request(server.base_url, "POST", "/infer", body)
            if status != 200 or strip_latency(json.loads(raw)) != strip_latency(ctx.answer):
                R.fail("after", "fixed body", f"answered {status} {raw[:200]!r}, not the baseline")
            check_metrics(server)
            rss_first, rss_last = rounds[0]["rss"], rounds[-1]["rss"]
            print(f"robustness: RSS {rss_before / 1024:.1f} MB before the abuse, {rss_last / 1024:.1f} MB after it "
                  f"({(rss_last - rss_before) / 1024:+.1f} MB, bound +{RSS_BOUND_KB / 1024:.0f} MB; from round 1 to "
                  f"round {len(rounds)} {(rss_last - rss_first) / 1024:+.1f} MB, bound +{RSS_STEADY_KB / 1024:.0f} MB); "
                  f"peak {server.peak_rss_kb() / 1024:.1f} MB; {server.threads()} threads, {server.open_fds()} open fds")
            if rss_last - rss_before > RSS_BOUND_KB:
                R.fail("after", "memory", f"RSS grew {(rss_last - rss_before) / 1024:.1f} MB over the baseline "
                       f"(> {RSS_BOUND_KB / 1024:.0f} MB)")
            if len(rounds) > 1 and rss_last - rss_first > RSS_STEADY_KB:
                R.fail("after", "memory", f"RSS kept growing after the first round: {(rss_last - rss_first) / 1024:+.1f} MB "
                       f"over {len(rounds) - 1} more round(s) (> {RSS_STEADY_KB / 1024:.0f} MB): a leak")
    finally:
        code = server.stop()
    if code != 0:
        R.fail("after", "shutdown", f"quant serve ended with exit code {code}; expected 0 after SIGTERM")
    for line in server.crash_lines():
        R.fail("after", "stderr", line)

    # --- summary
    print(f"\n{'kind':<22}{'requests':>9}  answers (status or what happened: count)")
    for kind in sorted(R.requests):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(R.statuses[kind].items(), key=lambda x: str(x[0])))
        print(f"{kind:<22}{R.requests[kind]:>9}  {statuses}")
    total = sum(n for k, n in R.requests.items() if k != "valid during abuse")
    print(f"{'abusive requests':<22}{total:>9}  ({len(rounds)} rounds, {ABUSE_THREADS} abuse threads, "
          f"{sum(r['seconds'] for r in rounds):.1f} s)")
    for note in R.notes:
        print(f"note: {note}")
    print(f"robustness: total {time.monotonic() - t_start:.1f} s")
    if R.failures:
        if any(kind == "after" for kind, _ in R.failures):
            print("\nquant serve stderr (last 20 lines):")
            for line in server.stderr_text().splitlines()[-20:]:
                print(f"  | {line}")
        print(f"\n{len(R.failures)} FAILED CHECKS:")
        for (kind, case), (message, count) in sorted(R.failures.items()):
            print(f"  FAIL [{kind}] {case}: {message}" + (f" ({count} times)" if count > 1 else ""))
        return 1
    print("robustness: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
