"""Start and stop a real `quant serve` for the tests in tests/serve/ (docs/conventions.md, "Tests":
tests that need a server start it themselves). Python standard library only.

Typical use:

    import serve_fixture as sf
    quant = sf.quant_binary(sys.argv)              # exits 77 (skip) when it is missing
    work = sf.work_dir("quant-serve-foo")          # removed at exit
    models = sf.train_models(quant, work)          # generate → ingest → train, a few seconds
    cfg = sf.config_text(sf.serve_section(models, request_timeout_ms=1000))
    with sf.serving(quant, work, cfg, token="s3cret") as server:
        status, headers, body = sf.request(server.base_url, "GET", "/ready")
        ...
        server.rss_kb()                            # VmRSS of the server process

A started server is always killed: `stop()` (also on leaving `serving`), an
atexit hook for servers still running, and on Linux PR_SET_PDEATHSIG, so even a
test that is killed outright takes its server with it. (The death signal fires
when the *thread* that started the server exits: start servers from the main
thread or from one that outlives them.)
"""
from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Iterator, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
BASE_CONFIG = ROOT / "config" / "quant.toml"
SKIP = 77

# What a crashed or sanitizer-failing server leaves on stderr.
CRASH_MARKERS = (
    "AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
    "terminate called", "what():", "Segmentation fault", "Aborted", "core dumped", "stack-overflow",
    "std::bad_alloc", "double free", "free(): ", "malloc(): ",
)


def quant_binary(argv: Sequence[str], usage: str = "") -> str:
    """The quant binary named by argv[1] (absolute); exits 77 (skip) when it is missing."""
    if len(argv) < 2:
        print(f"usage: {argv[0]} path/to/quant {usage}".rstrip(), file=sys.stderr)
        sys.exit(2)
    path = Path(argv[1]).resolve()
    if not path.is_file() or not os.access(path, os.X_OK):
        print(f"SKIP: quant binary {argv[1]} is missing (cmake --build build/dev --target quant)")
        sys.exit(SKIP)
    return str(path)


def work_dir(prefix: str = "quant-serve", keep: bool = False) -> Path:
    """A fresh temporary directory, removed at exit unless `keep` (or QUANT_TEST_KEEP=1)."""
    path = Path(tempfile.mkdtemp(prefix=prefix + ".", dir=os.environ.get("TMPDIR")))
    if not keep and os.environ.get("QUANT_TEST_KEEP") != "1":
        atexit.register(shutil.rmtree, path, True)
    return path


def run_quant(quant: str, args: Sequence[str], config: Path | str = BASE_CONFIG, lake: Path | str | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs `quant --config CONFIG [--lake LAKE] ARGS...`; raises with its output when it fails."""
    cmd = [quant, "--config", str(config)] + (["--lake", str(lake)] if lake else []) + [str(a) for a in args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def train_models(quant: str, work: Path, symbol: str = "WIN", days: int = 30, seed: int = 7,
                 out: str = "models", train_args: Sequence[str] = ()) -> Path:
    """A Gatekeeper model directory the honest way: generated bars → lake → `quant train`.
    Reuses `work/out` when it already holds a manifest."""
    models = work / out
    if (models / "manifest.json").is_file():
        return models
    lake = work / "lake"
    csv = work / f"{symbol}_{days}d_seed{seed}.csv"
    if not csv.exists():
        run_quant(quant, ["generate", "-s", symbol, "--days", days, "--seed", seed, "--out", csv], lake=lake)
        run_quant(quant, ["ingest", "-q", "-f", "mt5-bars", "-s", symbol, csv], lake=lake)
    run_quant(quant, ["train", "-s", symbol, "--out", models, *train_args], lake=lake)
    return models


def manifest_features(models: Path | str) -> list[str]:
    """The feature names of a model directory, in manifest order."""
    manifest = json.loads((Path(models) / "manifest.json").read_text())
    return list(manifest["features"]["names"])


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is JSON-compatible for these values


def serve_section(models: Path | str | None = None, gates: Sequence[dict] | None = None,
                  paper_symbols: Sequence[str] = (), paper: dict | None = None, **settings) -> str:
    """A `[serve]` section: `settings` are its keys (port, workers, max_body_bytes,
    request_timeout_ms, idle_timeout_ms, token_env, token_file, ...); `gates` is a list
    of [[serve.gates]] tables (dicts), or one gate "gatekeeper" (p_min 0.5) on `models`."""
    lines = ["[serve]"]
    for key, value in {"bind": "127.0.0.1", "port": 0, **settings}.items():
        lines.append(f"{key} = {_toml_value(value)}")
    lines += ["", "[serve.paper]", f"symbols = {_toml_value(list(paper_symbols))}"]
    # Each server of these tests is a fresh desk (they reuse client order ids
    # across servers in one work directory): no order journal unless a test
    # asks for one (its restart behaviour: PaperDeskTest and serve.api).
    paper = {"journal": "", **(paper or {})}
    for key, value in paper.items():
        lines.append(f"{key} = {_toml_value(value)}")
    if gates is None:
        gates = [{"name": "gatekeeper", "dir": str(models), "p_min": 0.5}] if models is not None else []
    for gate in gates:
        lines += ["", "[[serve.gates]]"] + [f"{k} = {_toml_value(v)}" for k, v in gate.items()]
    return "\n".join(lines) + "\n"


def config_text(serve_toml: str, base: Path | str = BASE_CONFIG) -> str:
    """The shipped configuration (instruments, costs, ...) with its [serve] part
    (everything from the line starting with "[serve]" on) replaced by `serve_toml`."""
    kept = []
    for line in Path(base).read_text().splitlines(keepends=True):
        if line.startswith("[serve]"):
            break
        kept.append(line)
    return "".join(kept) + "\n" + serve_toml


def request(base_url: str, method: str, path: str, body: bytes | str | dict | None = None,
         headers: dict | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One request on a fresh connection: (status, headers with lower-case names, body)."""
    url = urllib.parse.urlparse(base_url)
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


_live: list["Server"] = []


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_live):
        server.stop(timeout=3)


class Server:
    """A running `quant serve`. Create it with `start_server` (or `serving`)."""

    def __init__(self, proc: subprocess.Popen, stderr_path: Path, port_file: Path, host: str):
        self.proc = proc
        self.pid = proc.pid
        self.stderr_path = stderr_path
        self.port_file = port_file
        self.host = host
        self.port = 0
        self.returncode: Optional[int] = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kb(self) -> int:
        """Resident set size (VmRSS) in KiB, from /proc/PID/status."""
        return self._status_kb("VmRSS")

    def peak_rss_kb(self) -> int:
        """Peak resident set size (VmHWM) in KiB."""
        return self._status_kb("VmHWM")

    def _status_kb(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {key} in /proc/{self.pid}/status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def crash_lines(self) -> list[str]:
        """Lines of the server's stderr that look like a crash or a sanitizer report."""
        return [line for line in self.stderr_text().splitlines() if any(m in line for m in CRASH_MARKERS)]

    def wait_ready(self, timeout: float = 30) -> None:
        """Until GET /ready answers 200 (raises on timeout or when the process exits)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"quant serve exited {self.proc.returncode} before it was ready:\n{self.stderr_text()}")
            try:
                status, _, body = request(self.base_url, "GET", "/ready", timeout=2)
                if status == 200:
                    return
                last = f"{status} {body[:200]!r}"
            except OSError as e:
                last = str(e)
            time.sleep(0.05)
        raise RuntimeError(f"quant serve not ready after {timeout} s ({last}):\n{self.stderr_text()}")

    def stop(self, timeout: float = 10) -> Optional[int]:
        """SIGTERM, then SIGKILL after `timeout` s. Returns the exit code (negative: a signal). Idempotent."""
        if self in _live:
            _live.remove(self)
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        return self.returncode


def start_server(quant: str, work: Path, config: str, models: Path | str | None = None,
                 token: str | None = None, token_file: Path | str | None = None, workers: int | None = 2,
                 extra_args: Sequence[str] = (), env: dict | None = None, lake: Path | str | None = None,
                 wait_ready: bool = True, ready_timeout: float = 30, name: str = "serve", port: int = 0) -> Server:
    """Writes `config` (text) to work/NAME.toml and starts
    `quant --config it [--lake L] serve --port PORT --port-file F [--models M] [--workers N] [--token-file T] EXTRA...`
    (PORT 0: any free port)
    with the bearer token `token` in QUANT_SERVE_TOKEN (removed from the environment when None);
    waits for the port file and, when `wait_ready`, for GET /ready 200. Stderr goes to work/NAME.stderr."""
    work = Path(work)
    cfg = work / f"{name}.toml"
    cfg.write_text(config)
    port_file = work / f"{name}.port"
    port_file.unlink(missing_ok=True)
    stderr_path = work / f"{name}.stderr"
    cmd = [quant, "--config", str(cfg)] + (["--lake", str(lake)] if lake else [])
    cmd += ["serve", "--port", str(port), "--port-file", str(port_file)]
    if models is not None:
        cmd += ["--models", str(models)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if token_file is not None:
        cmd += ["--token-file", str(token_file)]
    cmd += [str(a) for a in extra_args]
    child_env = dict(os.environ if env is None else env)
    child_env.pop("QUANT_SERVE_TOKEN", None)
    if token is not None:
        child_env["QUANT_SERVE_TOKEN"] = token
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=child_env, cwd=work,
                                preexec_fn=_set_pdeathsig if sys.platform.startswith("linux") else None)
    server = Server(proc, stderr_path, port_file, "127.0.0.1")
    _live.append(server)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if port_file.is_file():
                text = port_file.read_text().strip()
                if text.isdigit():
                    server.port = int(text)
                    break
            if not server.alive():
                raise RuntimeError(f"quant serve exited {proc.returncode} at start-up:\n{server.stderr_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"quant serve wrote no port file within {ready_timeout} s:\n{server.stderr_text()}")
            time.sleep(0.02)
        m = re.search(r"listening on http://([^:\s]+):(\d+)", server.stderr_text())
        if m and int(m.group(2)) == server.port:
            server.host = m.group(1)
        if wait_ready:
            server.wait_ready(max(1.0, deadline - time.monotonic()))
    except BaseException:
        server.stop(timeout=3)
        raise
    return server


@contextlib.contextmanager
def serving(quant: str, work: Path, config: str, **kwargs) -> Iterator[Server]:
    """`start_server` as a context manager: the server is stopped on leaving, also on failure."""
    server = start_server(quant, work, config, **kwargs)
    try:
        yield server
    finally:
        server.stop()
