"""The Python reference for bench/serve/run.sh: the Gatekeeper served by FastAPI on
uvicorn, predicting with XGBoost's Python package.

It answers `POST /infer` as `quant serve` does for one row (docs/contracts/serve_api.md),
with the same checks in the same order as src/serve/infer.cpp: a body that is not a
JSON object, a missing/unknown/ill-typed field, a missing, unknown, non-numeric,
non-finite or out-of-float-range feature -> 400 {"error", "field"}; an unknown
`model` or a `version` that is not the loaded one -> 404 (batches, `rows`, are not
served: 400). Without `model` it answers the one-gate chain (with `gates`). The row is built in the manifest's feature
order as float32; each model's `xgboost_file` (XGBoost's JSON of the same trees
as the ONNX file) is loaded into an `xgboost.Booster`: prob is the classifier
(binary:logistic: XGBoost applies the sigmoid, as the ONNX graph does), q10/q90
the quantile regressors (reg:squarederror with the starting quantile as
base_score: the plain prediction is the quantile, as in ONNX); q10/q90 are
sorted. `GET /ready` and `GET /health` answer as the contract says.

This is deliberately the fast way to write such a service, so that the
comparison is not against a straw man: one `async def` handler on the raw
request (no pydantic model, no thread-pool hop), one XGBoost thread per worker
process, and the faster of XGBoost's two one-row prediction paths
(`Booster.inplace_predict` on a float32 array, or `DMatrix` + `Booster.predict`),
measured once at start-up unless SERVE_BENCH_PREDICT says which. Uvicorn picks
uvloop and httptools when they are installed (run.sh reports which it used).

Configuration (environment, since `python3 -m uvicorn` owns argv):
  SERVE_BENCH_MODELS   model directory (manifest.json + *.xgboost.json); required
  SERVE_BENCH_GATE     the gate's name (default: the manifest's `name`)
  SERVE_BENCH_P_MIN    `pass` = prob >= p_min (default 0.5)
  SERVE_BENCH_PREDICT  auto (default) | inplace | dmatrix
Run:  SERVE_BENCH_MODELS=DIR python3 -m uvicorn python_service:app --app-dir bench/serve \
        --host 127.0.0.1 --port 8001 --workers N --no-access-log
or:   python3 bench/serve/python_service.py MODEL_DIR [PORT]   (one worker)
"""

import hashlib
import importlib.util
import json
import math
import os
import struct
import sys
import time

# XGBoost 1.7's inplace_predict probes `import pandas` on every call; when pandas
# is not installed that failed import searches sys.path each time (~60 us per
# call, measured). Telling the import system up front that pandas is absent makes
# the probe fail at once; it changes nothing else.
if importlib.util.find_spec("pandas") is None:
    sys.modules["pandas"] = None

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import Response  # noqa: E402

OUTPUTS = ("prob", "q10", "q90")
_pack_f32 = struct.Struct("<f").pack
OPTIONAL_STRINGS = ("symbol", "ts")
TOP_LEVEL = {"model", "version", "symbol", "ts", "features", "rows"}


class Gate:
    def __init__(self, directory, name=None, p_min=0.5, predict="auto"):
        with open(os.path.join(directory, "manifest.json"), "rb") as f:
            manifest = json.load(f)
        self.directory = directory
        self.name = name or manifest.get("name", "gatekeeper")
        self.version = int(manifest.get("version", 1))
        self.p_min = float(p_min)
        self.features = list(manifest["features"]["names"])
        self.index = {n: i for i, n in enumerate(self.features)}
        by_output = {m["output"]: m for m in manifest["models"]}
        missing = [o for o in OUTPUTS if o not in by_output]
        if missing:
            raise ValueError(f"{directory}/manifest.json: no model for output(s) {missing}")
        self.boosters = []
        for output in OUTPUTS:
            entry = by_output[output]
            path = os.path.join(directory, entry["xgboost_file"])
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if entry.get("xgboost_sha256") and digest != entry["xgboost_sha256"]:
                raise ValueError(f"{path}: SHA-256 {digest} is not the manifest's {entry['xgboost_sha256']}")
            booster = xgb.Booster(model_file=path)
            booster.set_param({"nthread": 1})  # one worker process = one core, as a C++ worker thread
            self.boosters.append(booster)
        self.row = np.zeros((1, len(self.features)), dtype=np.float32)
        self.predict_path = self._choose(predict)

    def _inplace(self, row):
        return [float(b.inplace_predict(row)[0]) for b in self.boosters]

    def _dmatrix(self, row):
        d = xgb.DMatrix(row, nthread=1)
        return [float(b.predict(d, validate_features=False)[0]) for b in self.boosters]

    def _choose(self, predict):
        paths = {"inplace": self._inplace, "dmatrix": self._dmatrix}
        if predict != "auto":
            if predict not in paths:
                raise ValueError(f"SERVE_BENCH_PREDICT={predict!r}: auto, inplace or dmatrix")
            self.run = paths[predict]
            return predict
        a, b = self._inplace(self.row), self._dmatrix(self.row)
        if any(abs(x - y) > 1e-6 * max(1.0, abs(x)) for x, y in zip(a, b)):
            raise RuntimeError(f"inplace_predict {a} and DMatrix predict {b} disagree")
        best = {}
        for _ in range(5):  # interleaved, best of 5 rounds of 100 rows
            for name, fn in paths.items():
                t0 = time.perf_counter()
                for _ in range(100):
                    fn(self.row)
                best[name] = min(best.get(name, 1e9), time.perf_counter() - t0)
        choice = min(best, key=best.get)
        self.run = paths[choice]
        return choice

    def predict(self, row):
        prob, a, b = self.run(row)
        q10, q90 = (a, b) if a <= b else (b, a)
        return prob, q10, q90


def _reject_constant(token):  # NaN, Infinity, -Infinity are not JSON
    raise ValueError(token)


def _error(status, message, field=None):
    body = {"error": message}
    if field is not None:
        body["field"] = field
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _gate_from_env():
    directory = os.environ.get("SERVE_BENCH_MODELS")
    if not directory:
        raise RuntimeError("SERVE_BENCH_MODELS: set it to the Gatekeeper's model directory")
    return Gate(directory, os.environ.get("SERVE_BENCH_GATE") or None,
                float(os.environ.get("SERVE_BENCH_P_MIN", "0.5")),
                os.environ.get("SERVE_BENCH_PREDICT", "auto"))


if __name__ == "__main__" and len(sys.argv) > 1:
    os.environ["SERVE_BENCH_MODELS"] = sys.argv[1]
GATE = _gate_from_env()
app = FastAPI(title="Gatekeeper (Python reference)", openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/health")
async def health():
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.get("/ready")
async def ready():
    return Response(json.dumps({"status": "ready", "gates": 1, "predict": GATE.predict_path,
                                "pid": os.getpid()}), media_type="application/json")


def _shown(name):  # a client-supplied name in a message or field, bounded as the C++ server does
    return name if len(name) <= 64 else name[:64] + "\u2026"


@app.post("/infer")
async def infer(request: Request):
    # The checks, their order and their status/field are those of src/serve/infer.cpp.
    raw = await request.body()
    t0 = time.perf_counter_ns()
    gate = GATE
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as e:
        return _error(400, f"body is not valid JSON: {e}")
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    for key in body:
        if key not in TOP_LEVEL:
            return _error(400, f"unknown field '{_shown(key)}'", _shown(key))
    for key in ("model", "symbol", "ts"):
        if key in body and not isinstance(body[key], str):
            return _error(400, f"{key} must be a string", key)
    chain = "model" not in body
    if not chain and body["model"] != gate.name:
        return _error(404, f"model '{_shown(body['model'])}' is not loaded (loaded: {gate.name})", "model")
    if "version" in body:
        version = body["version"]
        if isinstance(version, str):
            if version != "champion":
                return _error(400, 'version must be "champion" or a version number', "version")
        elif isinstance(version, int) and not isinstance(version, bool):
            if version != gate.version:
                return _error(404, f"model '{gate.name}' version {version} is not loaded (loaded: {gate.version})",
                              "version")
        else:
            return _error(400, 'version must be "champion" or a version number', "version")
    if ("features" in body) == ("rows" in body):
        return _error(400, "give exactly one of 'features' (one row) and 'rows' (a batch)")
    if "rows" in body:
        return _error(400, "batch rows are not served by this reference (one row per request)", "rows")

    features = body["features"]
    if not isinstance(features, dict):
        return _error(400, "features must be an object of feature name \u2192 number", "features")
    row = np.empty((1, len(gate.features)), dtype=np.float32)
    index = gate.index
    for name in sorted(features):  # nlohmann's object is a std::map: its keys come sorted
        value = features[name]
        field = "features." + _shown(name)
        i = index.get(name)
        if i is None:
            return _error(400, f"unknown feature '{_shown(name)}' (model '{'chain' if chain else gate.name}' takes "
                               f"{len(gate.features)} features: see GET /models)", field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _error(400, f"feature '{_shown(name)}' must be a number", field)
        try:
            _pack_f32(value)  # the C cast to float: OverflowError where it would give inf
            ok = math.isfinite(value)
        except OverflowError:
            ok = False
        if not ok:
            return _error(400, f"feature '{_shown(name)}' must be finite (and within float range)", field)
        row[0, i] = value
    if len(features) != len(index):
        for name in gate.features:
            if name not in features:
                return _error(400, f"missing feature '{name}'", "features." + name)

    prob, q10, q90 = gate.predict(row)
    passed = prob >= gate.p_min
    answer = {"model": gate.name, "version": gate.version}
    for key in OPTIONAL_STRINGS:
        if key in body:
            answer[key] = body[key]
    answer.update(prob=prob, q10=q10, q90=q90)
    answer["pass"] = passed
    if chain:  # the whole chain, which here is this one gate
        answer["gates"] = [{"model": gate.name, "version": gate.version, "prob": prob, "q10": q10, "q90": q90,
                            "pass": passed}]
    answer["latency_us"] = (time.perf_counter_ns() - t0) // 1000
    return Response(json.dumps(answer), media_type="application/json")


if __name__ == "__main__":
    import uvicorn

    if len(sys.argv) < 2:
        sys.exit("usage: python_service.py MODEL_DIR [PORT]  (or SERVE_BENCH_MODELS=DIR python3 -m uvicorn ...)")
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]) if len(sys.argv) > 2 else 8001, access_log=False)
