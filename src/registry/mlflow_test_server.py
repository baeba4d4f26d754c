#!/usr/bin/env python3
"""A small stand-in for an MLflow tracking server, for mlflow_rest_test.cpp.

Implements exactly the endpoints quant's REST client (mlflow_rest.cpp) uses,
with the request and response shapes of MLflow's REST API documentation,
https://mlflow.org/docs/latest/rest-api.html (generated from
mlflow/protos/service.proto, model_registry.proto and mlflow_artifacts.proto):

  GET    /api/2.0/mlflow/experiments/get-by-name   ?experiment_name=      -> {experiment}
  POST   /api/2.0/mlflow/experiments/create        {name}                 -> {experiment_id}
  POST   /api/2.0/mlflow/runs/create               {experiment_id, user_id, run_name, start_time, tags}
                                                                          -> {run: {info, data}}
  GET    /api/2.0/mlflow/runs/get                  ?run_id=               -> {run}
  POST   /api/2.0/mlflow/runs/log-batch            {run_id, metrics, params, tags} -> {}
  POST   /api/2.0/mlflow/runs/set-tag              {run_id, key, value}   -> {}
  POST   /api/2.0/mlflow/runs/update               {run_id, status, end_time} -> {run_info}
  GET    /api/2.0/mlflow/artifacts/list            ?run_id=&path=         -> {root_uri, files}
  PUT    /api/2.0/mlflow-artifacts/artifacts/<path>   raw bytes           -> {}
  POST   /api/2.0/mlflow/registered-models/create  {name}                 -> {registered_model}
  GET    /api/2.0/mlflow/registered-models/get     ?name=                 -> {registered_model}
  GET    /api/2.0/mlflow/registered-models/search  ?max_results=&page_token= -> {registered_models, next_page_token}
  POST   /api/2.0/mlflow/registered-models/set-tag {name, key, value}     -> {}
  POST   /api/2.0/mlflow/model-versions/create     {name, source, run_id, tags} -> {model_version}
  GET    /api/2.0/mlflow/model-versions/get        ?name=&version=        -> {model_version}
  GET    /api/2.0/mlflow/model-versions/search     ?filter=name='X'&max_results=&page_token=
                                                                          -> {model_versions, next_page_token}
  POST   /api/2.0/mlflow/registered-models/alias   {name, alias, version} -> {}
  DELETE /api/2.0/mlflow/registered-models/alias   {name, alias} (JSON body, as MLflow's client sends it) -> {}
  GET    /api/2.0/mlflow/registered-models/alias   ?name=&alias=          -> {model_version}

Errors are MLflow's {"error_code": ..., "message": ...} with its HTTP statuses
(400 INVALID_PARAMETER_VALUE, 404 RESOURCE_DOES_NOT_EXIST, 400
RESOURCE_ALREADY_EXISTS, 401 UNAUTHENTICATED). Every request body is checked
against the documented field types; a violation is a 400 naming the field,
so a client bug fails the test.

For the test: GET /_test/state returns every request received and the state
(experiments, runs, artifacts as text, models). An experiment named "boom"
makes get-by-name answer a plain-text 500. --token / --basic require that
auth; --page-size caps search pages (exercising next_page_token). The bound
port is written to --port-file.
"""
import argparse
import base64
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LOCK = threading.Lock()
STATE = {
    "requests": [],
    "experiments": {"0": {"experiment_id": "0", "name": "Default", "artifact_location": "mlflow-artifacts:/0",
                          "lifecycle_stage": "active", "creation_time": 0, "last_update_time": 0}},
    "runs": {},
    "artifacts": {},
    "models": {},
}
ARGS = None
STATUSES = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad(message):
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def missing(what):
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", what)


def field(body, name, kind, required=True):
    """body[name], checked against the proto type: str, int (int64), list, float (double)."""
    if name not in body or body[name] is None:
        if required:
            raise bad(f"Missing value for required parameter '{name}'.")
        return None
    value = body[name]
    ok = {
        str: isinstance(value, str),
        int: isinstance(value, int) and not isinstance(value, bool),
        list: isinstance(value, list),
        float: (isinstance(value, (int, float)) and not isinstance(value, bool))
        or value in ("NaN", "Infinity", "-Infinity"),
    }[kind]
    if not ok:
        raise bad(f"Invalid value {value!r} for parameter '{name}': expected {kind.__name__}.")
    return value


def key_values(items, what):
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise bad(f"{what}: expected objects with key and value")
        out.append((field(item, "key", str), field(item, "value", str)))
    return out


def now_ms():
    return int(time.time() * 1000)


def run_json(run):
    return {"info": run["info"], "data": {
        "metrics": [dict(m) for m in run["latest"].values()],
        "params": [{"key": k, "value": v} for k, v in sorted(run["params"].items())],
        "tags": [{"key": k, "value": v} for k, v in sorted(run["tags"].items())]}}


def get_run(run_id):
    if run_id not in STATE["runs"]:
        raise missing(f"Run '{run_id}' not found")
    return STATE["runs"][run_id]


def get_model(name):
    if name not in STATE["models"]:
        raise missing(f"Registered Model with name={name} not found")
    return STATE["models"][name]


def version_json(model, version):
    v = model["versions"][version]
    aliases = sorted(a for a, target in model["aliases"].items() if target == version)
    return dict(v, tags=[{"key": k, "value": t} for k, t in sorted(v["tags"].items())], aliases=aliases)


def model_json(model):
    latest = max(model["versions"], key=int) if model["versions"] else None
    return {"name": model["name"], "creation_timestamp": model["creation_timestamp"],
            "last_updated_timestamp": model["last_updated_timestamp"], "description": model["description"],
            "latest_versions": [version_json(model, latest)] if latest else [],
            "tags": [{"key": k, "value": v} for k, v in sorted(model["tags"].items())],
            "aliases": [{"alias": a, "version": v} for a, v in sorted(model["aliases"].items())]}


def page(items, query, field_name):
    start = int(query.get("page_token", "0") or "0")
    size = int(query.get("max_results", "100"))
    if ARGS.page_size:
        size = min(size, ARGS.page_size)
    out = {field_name: items[start:start + size]}
    if start + size < len(items):
        out["next_page_token"] = str(start + size)
    return out


def handle(method, path, query, body):
    if method == "GET" and path == "/api/2.0/mlflow/experiments/get-by-name":
        name = query.get("experiment_name")
        if name is None:
            raise bad("Missing value for required parameter 'experiment_name'.")
        if name == "boom":
            raise ApiError(500, None, "Internal Server Error (plain text, as a proxy in front of MLflow might answer)")
        for e in STATE["experiments"].values():
            if e["name"] == name:
                return {"experiment": e}
        raise missing(f"Could not find experiment with name '{name}'")
    if method == "POST" and path == "/api/2.0/mlflow/experiments/create":
        name = field(body, "name", str)
        if any(e["name"] == name for e in STATE["experiments"].values()):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Experiment '{name}' already exists.")
        exp_id = str(len(STATE["experiments"]))
        STATE["experiments"][exp_id] = {"experiment_id": exp_id, "name": name,
                                        "artifact_location": f"mlflow-artifacts:/{exp_id}",
                                        "lifecycle_stage": "active", "creation_time": now_ms(),
                                        "last_update_time": now_ms()}
        return {"experiment_id": exp_id}
    if method == "POST" and path == "/api/2.0/mlflow/runs/create":
        exp_id = field(body, "experiment_id", str)
        if exp_id not in STATE["experiments"]:
            raise missing(f"Experiment with id '{exp_id}' does not exist.")
        user = field(body, "user_id", str, required=False) or ""
        start = field(body, "start_time", int)
        tags = dict(key_values(field(body, "tags", list, required=False) or [], "tags"))
        name = field(body, "run_name", str, required=False) or tags.get("mlflow.runName", "")
        run_id = uuid.uuid4().hex
        info = {"run_id": run_id, "run_uuid": run_id, "run_name": name, "experiment_id": exp_id, "user_id": user,
                "status": "RUNNING", "start_time": start,
                "artifact_uri": f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts", "lifecycle_stage": "active"}
        run = {"info": info, "params": {}, "tags": tags, "metrics": [], "latest": {}}
        STATE["runs"][run_id] = run
        return {"run": run_json(run)}
    if method == "GET" and path == "/api/2.0/mlflow/runs/get":
        return {"run": run_json(get_run(query.get("run_id", "")))}
    if method == "POST" and path == "/api/2.0/mlflow/runs/log-batch":
        run = get_run(field(body, "run_id", str))
        metrics = field(body, "metrics", list, required=False) or []
        params = key_values(field(body, "params", list, required=False) or [], "params")
        tags = key_values(field(body, "tags", list, required=False) or [], "tags")
        if len(params) > 100 or len(metrics) > 1000 or len(metrics) + len(params) + len(tags) > 1000:
            raise bad("A batch logging request can contain at most 1000 metrics, 100 params and 1000 entries")
        checked = []
        for m in metrics:
            checked.append({"key": field(m, "key", str), "value": field(m, "value", float),
                            "timestamp": field(m, "timestamp", int), "step": field(m, "step", int, required=False) or 0})
        for key, value in params:
            if key in run["params"] and run["params"][key] != value:
                raise bad(f"Changing param values is not allowed. Param with key='{key}' was already logged "
                          f"with value='{run['params'][key]}' for run ID='{run['info']['run_id']}'. "
                          f"Attempted logging new value '{value}'.")
        for key, value in params:
            run["params"][key] = value
        for m in checked:
            run["metrics"].append(m)
            old = run["latest"].get(m["key"])
            if old is None or (m["step"], m["timestamp"]) >= (old["step"], old["timestamp"]):
                run["latest"][m["key"]] = m
        run["tags"].update(dict(tags))
        return {}
    if method == "POST" and path == "/api/2.0/mlflow/runs/set-tag":
        run = get_run(field(body, "run_id", str))
        run["tags"][field(body, "key", str)] = field(body, "value", str)
        return {}
    if method == "POST" and path == "/api/2.0/mlflow/runs/update":
        run = get_run(field(body, "run_id", str))
        status = field(body, "status", str, required=False)
        if status is not None and status not in STATUSES:
            raise bad(f"Invalid value {status!r} for parameter 'status'")
        end = field(body, "end_time", int, required=False)
        if status:
            run["info"]["status"] = status
        if end is not None:
            run["info"]["end_time"] = end
        return {"run_info": run["info"]}
    if method == "GET" and path == "/api/2.0/mlflow/artifacts/list":
        run = get_run(query.get("run_id", ""))
        prefix = run["info"]["artifact_uri"][len("mlflow-artifacts:/"):]
        sub = query.get("path", "")
        base = prefix + ("/" + sub if sub else "")
        files = sorted({p[len(base) + 1:].split("/")[0] for p in STATE["artifacts"] if p.startswith(base + "/")})
        return {"root_uri": run["info"]["artifact_uri"],
                "files": [{"path": (sub + "/" if sub else "") + f, "is_dir": False} for f in files]}
    if method == "POST" and path == "/api/2.0/mlflow/registered-models/create":
        name = field(body, "name", str)
        if name in STATE["models"]:
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")
        STATE["models"][name] = {"name": name, "creation_timestamp": now_ms(), "last_updated_timestamp": now_ms(),
                                 "description": "", "tags": {}, "aliases": {}, "versions": {}}
        return {"registered_model": model_json(STATE["models"][name])}
    if method == "GET" and path == "/api/2.0/mlflow/registered-models/get":
        return {"registered_model": model_json(get_model(query.get("name", "")))}
    if method == "GET" and path == "/api/2.0/mlflow/registered-models/search":
        models = [model_json(STATE["models"][n]) for n in sorted(STATE["models"])]
        return page(models, query, "registered_models")
    if method == "POST" and path == "/api/2.0/mlflow/registered-models/set-tag":
        model = get_model(field(body, "name", str))
        model["tags"][field(body, "key", str)] = field(body, "value", str)
        return {}
    if method == "POST" and path == "/api/2.0/mlflow/model-versions/create":
        model = get_model(field(body, "name", str))
        source = field(body, "source", str)
        run_id = field(body, "run_id", str, required=False) or ""
        tags = dict(key_values(field(body, "tags", list, required=False) or [], "tags"))
        version = str(max([int(v) for v in model["versions"]] + [0]) + 1)
        model["versions"][version] = {"name": model["name"], "version": version, "creation_timestamp": now_ms(),
                                      "last_updated_timestamp": now_ms(), "current_stage": "None",
                                      "description": "", "source": source, "run_id": run_id, "status": "READY",
                                      "user_id": "", "tags": tags}
        model["last_updated_timestamp"] = now_ms()
        return {"model_version": version_json(model, version)}
    if method == "GET" and path == "/api/2.0/mlflow/model-versions/get":
        model = get_model(query.get("name", ""))
        version = query.get("version", "")
        if version not in model["versions"]:
            raise missing(f"Model Version (name={model['name']}, version={version}) not found")
        return {"model_version": version_json(model, version)}
    if method == "GET" and path == "/api/2.0/mlflow/model-versions/search":
        match = re.fullmatch(r"name\s*=\s*'((?:[^'\\]|\\.)*)'", query.get("filter", ""))
        if not match:
            raise bad(f"Unsupported filter {query.get('filter')!r} (this stand-in knows name='X')")
        name = re.sub(r"\\(.)", r"\1", match.group(1))
        model = STATE["models"].get(name)
        versions = [version_json(model, v) for v in sorted(model["versions"], key=int)] if model else []
        return page(versions, query, "model_versions")
    if path == "/api/2.0/mlflow/registered-models/alias":
        source = body if method in ("POST", "DELETE") else query
        model = get_model(field(source, "name", str))
        alias = field(source, "alias", str)
        if method == "POST":
            version = field(body, "version", str)
            if version not in model["versions"]:
                raise missing(f"Model Version (name={model['name']}, version={version}) not found")
            model["aliases"][alias] = version
            return {}
        if alias not in model["aliases"]:
            raise missing(f"Registered model alias {alias} not found.")
        if method == "DELETE":
            del model["aliases"][alias]
            return {}
        if method == "GET":
            return {"model_version": version_json(model, model["aliases"][alias])}
    raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No endpoint {method} {path} in this stand-in")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def answer(self, status, obj=None, text=None):
        data = (json.dumps(obj) if obj is not None else text or "").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if obj is not None else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        header = self.headers.get("Authorization", "")
        if ARGS.token:
            return header == f"Bearer {ARGS.token}"
        if ARGS.basic:
            return header == "Basic " + base64.b64encode(ARGS.basic.encode()).decode()
        return True

    def serve(self, method):
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or "0"))
        if path == "/_test/state":
            with LOCK:
                return self.answer(200, STATE)
        with LOCK:
            record = {"method": method, "path": path, "query": query, "auth": self.headers.get("Authorization", ""),
                      "content_type": self.headers.get("Content-Type", "")}
            STATE["requests"].append(record)
            if not self.authorised():
                return self.answer(401, {"error_code": "UNAUTHENTICATED",
                                         "message": "You are not authenticated. Please provide valid credentials."})
            try:
                if method == "PUT" and path.startswith("/api/2.0/mlflow-artifacts/artifacts/"):
                    rel = path[len("/api/2.0/mlflow-artifacts/artifacts/"):]
                    STATE["artifacts"][rel] = raw.decode("utf-8", "replace")
                    record["bytes"] = len(raw)
                    return self.answer(200, {})
                body = {}
                if method != "GET" and raw:
                    if not self.headers.get("Content-Type", "").startswith("application/json"):
                        raise bad("Content-Type must be application/json")
                    body = json.loads(raw)
                    if not isinstance(body, dict):
                        raise bad("The request body must be a JSON object")
                record["json"] = body
                return self.answer(200, handle(method, path, query, body))
            except ApiError as e:
                if e.code is None:
                    return self.answer(e.status, text=e.message)
                return self.answer(e.status, {"error_code": e.code, "message": e.message})
            except json.JSONDecodeError as e:
                return self.answer(400, {"error_code": "MALFORMED_REQUEST", "message": f"Malformed JSON: {e}"})

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--basic", default="", help="user:password")
    parser.add_argument("--page-size", type=int, default=0)
    ARGS = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
