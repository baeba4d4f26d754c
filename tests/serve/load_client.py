#!/usr/bin/env python3
"""Steady /infer load for the hot-reload test: N keep-alive connections post the
same body until a stop file appears, and check every answer.

    load_client.py URL BODY_FILE EXPECTED_JSON STOP_FILE [CONNECTIONS]

EXPECTED_JSON maps a model version (as a string) to the answer that version
gives for the body: {"1": {"prob": .., "q10": .., "q90": ..}, "2": {...}}. An
answer fails when its status is not 200, its version is unknown, or its scores
are not that version's (a request that mixed two model sets). Prints counts per
version and exits 1 on any failure.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def main() -> int:
    url, body_file, expected_file, stop_file = sys.argv[1:5]
    connections = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    body = open(body_file, "rb").read()
    expected = json.load(open(expected_file))
    parsed = urllib.parse.urlparse(url)
    lock = threading.Lock()
    counts: dict = {}
    failures: list = []

    def worker() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        while not os.path.exists(stop_file):
            try:
                conn.request("POST", "/infer", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except Exception as e:  # a dropped connection is a failed request too
                with lock:
                    failures.append(f"transport error: {e!r}")
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
                continue
            problem = None
            if resp.status != 200:
                problem = f"status {resp.status}: {data[:200]!r}"
            else:
                answer = json.loads(data)
                want = expected.get(str(answer.get("version")))
                if want is None:
                    problem = f"unexpected version {answer.get('version')}"
                else:
                    for key in ("prob", "q10", "q90"):
                        if abs(answer[key] - want[key]) > 1e-6 * max(1.0, abs(want[key])):
                            problem = f"version {answer['version']} answered {key}={answer[key]}, expected {want[key]}"
            with lock:
                if problem:
                    failures.append(problem)
                else:
                    counts[answer["version"]] = counts.get(answer["version"], 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(counts.values())
    print(f"load: {total} good answers in {time.time() - start:.1f}s over {connections} connections; "
          f"by version: {dict(sorted(counts.items()))}; failures: {len(failures)}")
    for f in failures[:20]:
        print("  FAIL:", f)
    return 1 if failures or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
