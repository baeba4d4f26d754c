#!/usr/bin/env python3
"""A local stand-in for the Telegram Bot API, for tests (not part of the bot).

Serves POST/GET <base>/bot<token>/<method> for getUpdates, sendMessage and
sendPhoto as Telegram does (JSON answers {"ok": ..., "result": ...}; a wrong
token gets 401). Updates are kept until a getUpdates call comes with a higher
offset, as Telegram confirms them. getUpdates holds the poll open up to its
`timeout` (at most 5 s here) until an update arrives.

Test control (no token): POST /_test/update {"chat_id", "text"[, "edited":
true]} queues a message update (an edited_message one with "edited"); POST /_test/fail {"method", "status", "count", "retry_after"}
makes the next `count` calls of `method` answer `status`; GET /_test/requests
lists every Bot API request received (method, offset, chat_id, text, caption,
photo size and first bytes as hex, whether the token was right, the status
answered: 200 unless failed on purpose or 401).

Usage: telegram_stand_in.py --token TOKEN --port-file FILE [--photo-dir DIR]
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

lock = threading.Condition()
updates = []  # queued update objects
next_update_id = [1000]
requests = []
failures = {}  # method -> [status, count, retry_after]
message_id = [0]
args = None


def parse_multipart(body, content_type):
    boundary = None
    for part in content_type.split(";"):
        part = part.strip()
        if part.startswith("boundary="):
            boundary = part[len("boundary="):].strip('"')
    if boundary is None:
        return {}
    fields = {}
    for chunk in body.split(b"--" + boundary.encode()):
        chunk = chunk.strip(b"\r\n")
        if not chunk or chunk == b"--":
            continue
        head, _, value = chunk.partition(b"\r\n\r\n")
        name = None
        filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition"):
                for item in line.split(";"):
                    item = item.strip()
                    if item.startswith("name="):
                        name = item[5:].strip('"')
                    if item.startswith("filename="):
                        filename = item[9:].strip('"')
        if name is not None:
            fields[name] = (value, filename)
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet: the test reads /_test/requests
        pass

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_any(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(length) if length else b"")

    def handle_any(self, body):
        url = urlparse(self.path)
        if url.path == "/_test/requests":
            with lock:
                return self.answer(200, requests)
        if url.path == "/_test/update":
            q = json.loads(body or b"{}")
            with lock:
                update = {"update_id": next_update_id[0],
                          "edited_message" if q.get("edited") else "message": {"message_id": next_update_id[0], "date": int(time.time()),
                                      "chat": {"id": q["chat_id"], "type": "private"},
                                      "from": {"id": q["chat_id"], "is_bot": False, "first_name": "t"},
                                      "text": q["text"]}}
                next_update_id[0] += 1
                updates.append(update)
                lock.notify_all()
            return self.answer(200, {"ok": True, "result": update})
        if url.path == "/_test/fail":
            q = json.loads(body or b"{}")
            with lock:
                failures[q["method"]] = [q.get("status", 500), q.get("count", 1), q.get("retry_after")]
            return self.answer(200, {"ok": True})

        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return self.answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = parts[0][3:], parts[1]
        ctype = self.headers.get("Content-Type") or ""
        fields = {}
        if ctype.startswith("application/json") and body:
            fields = json.loads(body)
        elif ctype.startswith("multipart/form-data"):
            for k, (v, filename) in parse_multipart(body, ctype).items():
                fields[k] = v if filename else v.decode("utf-8", "replace")
        for k, v in parse_qs(url.query).items():
            fields[k] = v[0]
        record = {"method": method, "token_ok": token == args.token, "time": time.time()}
        for k in ("offset", "timeout", "chat_id", "text", "caption"):
            if k in fields:
                record[k] = fields[k]
        if isinstance(fields.get("photo"), bytes):
            photo = fields["photo"]
            record["photo_size"] = len(photo)
            record["photo_head"] = photo[:24].hex()
            if args.photo_dir:
                with lock:
                    n = len(requests)
                with open(os.path.join(args.photo_dir, "photo_%d.png" % n), "wb") as f:
                    f.write(photo)
        with lock:
            requests.append(record)
            fail = failures.get(method)
            if fail and fail[1] > 0:
                fail[1] -= 1
                status, retry_after = fail[0], fail[2]
            else:
                status = None
            record["status"] = 401 if token != args.token else (status or 200)
        if token != args.token:
            return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if status is not None:
            reply = {"ok": False, "error_code": status, "description": "stand-in failure %d" % status}
            if retry_after is not None:
                reply["description"] = "Too Many Requests: retry after %d" % retry_after
                reply["parameters"] = {"retry_after": retry_after}
            if status == 502:  # a proxy's HTML page, not the API's JSON
                data = b"<html>bad gateway</html>"
                self.send_response(502)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            return self.answer(status, reply)

        if method == "getUpdates":
            offset = int(fields.get("offset", 0) or 0)
            wait = min(float(fields.get("timeout", 0) or 0), 5.0)
            deadline = time.time() + wait
            with lock:
                if offset > 0:
                    updates[:] = [u for u in updates if u["update_id"] >= offset]
                while not updates and time.time() < deadline:
                    lock.wait(deadline - time.time())
                out = [u for u in updates if u["update_id"] >= offset]
            return self.answer(200, {"ok": True, "result": out})
        if method in ("sendMessage", "sendPhoto"):
            if "chat_id" not in fields:
                return self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"})
            if method == "sendPhoto" and not isinstance(fields.get("photo"), bytes):
                return self.answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: no photo"})
            with lock:
                message_id[0] += 1
                mid = message_id[0]
            return self.answer(200, {"ok": True, "result": {"message_id": mid, "chat": {"id": int(fields["chat_id"])},
                                                            "date": int(time.time())}})
        return self.answer(404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--token", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--photo-dir", default="")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
