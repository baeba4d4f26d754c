"""Helpers of bench/serve/run.sh (standard library only, so any python3 runs them).

  tools.py body MODEL_DIR [GATE]       the request body of the benchmark, on stdout
  tools.py parity BODY URL_A URL_B     one body to both services: the answers must agree
  tools.py versions                    the Python stack's versions, one line
  tools.py freeport                    a free TCP port on 127.0.0.1
"""

import json
import os
import socket
import sys
import urllib.error
import urllib.request


def body(model_dir, gate=None):
    """One feature row in the models' own range: for each feature, the median of
    the split thresholds on it across the three models (so the row walks real
    paths of every tree, not a corner of the space); 0 for a feature no tree
    splits on. Deterministic for a given model directory."""
    with open(os.path.join(model_dir, "manifest.json")) as f:
        manifest = json.load(f)
    names = manifest["features"]["names"]
    thresholds = [[] for _ in names]
    for entry in manifest["models"]:
        with open(os.path.join(model_dir, entry["xgboost_file"])) as f:
            trees = json.load(f)["learner"]["gradient_booster"]["model"]["trees"]
        for tree in trees:
            for left, feature, cond in zip(tree["left_children"], tree["split_indices"], tree["split_conditions"]):
                if left != -1:
                    thresholds[feature].append(cond)
    features = {}
    for name, values in zip(names, thresholds):
        values.sort()
        features[name] = float(f"{values[len(values) // 2]:.6g}") if values else 0.0
    return {"model": gate or manifest.get("name", "gatekeeper"), "symbol": "WIN", "features": features}


def post(url, data):
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}


def parity(body_file, url_a, url_b, name_a="C++", name_b="Python"):
    """Exit 1 unless both answer the body with 200 and the same scores
    (|prob diff| < 1e-4; q10, q90 within 1e-3 relative; same pass, model,
    version). Invalid bodies must get the same status and `field` from both;
    a difference there is printed as a WARN (the scores are what the benchmark
    compares)."""
    with open(body_file, "rb") as f:
        raw = f.read()
    (sa, a), (sb, b) = post(url_a, raw), post(url_b, raw)
    ok = sa == 200 and sb == 200
    print(f"parity: {name_a} {sa} {json.dumps(a)}")
    print(f"parity: {name_b} {sb} {json.dumps(b)}")
    if ok:
        def rel(x, y):
            return abs(x - y) / max(1.0, abs(x), abs(y))
        checks = [
            ("prob", abs(a["prob"] - b["prob"]) < 1e-4, f"|diff| {abs(a['prob'] - b['prob']):.2e} < 1e-4"),
            ("q10", rel(a["q10"], b["q10"]) < 1e-3, f"rel diff {rel(a['q10'], b['q10']):.2e} < 1e-3"),
            ("q90", rel(a["q90"], b["q90"]) < 1e-3, f"rel diff {rel(a['q90'], b['q90']):.2e} < 1e-3"),
            ("pass", a["pass"] == b["pass"], f"{a['pass']} / {b['pass']}"),
            ("model", a["model"] == b["model"], f"{a['model']} / {b['model']}"),
            ("version", a["version"] == b["version"], f"{a['version']} / {b['version']}"),
        ]
        for key, good, text in checks:
            print(f"parity: {key:7s} {'ok  ' if good else 'FAIL'} {text}")
            ok = ok and good
    else:
        print("parity: FAIL: both must answer 200")

    good = json.loads(raw)
    names = list(good["features"])
    # Without `model`: the gate chain, here one gate, answered with `gates`.
    chain = json.dumps({k: v for k, v in good.items() if k != "model"}).encode()
    (ca, ea), (cb, eb) = post(url_a, chain), post(url_b, chain)
    same = (ca == cb == 200 and len(ea.get("gates", [])) == len(eb.get("gates", [])) == 1
            and abs(ea["prob"] - eb["prob"]) < 1e-4 and ea["pass"] == eb["pass"])
    print(f"parity: chain   {'ok  ' if same else 'FAIL'} (no model): {name_a} {ca}, {name_b} {cb}, one entry in gates each")
    ok = ok and same

    bad = {
        "not JSON": b"{",
        "not an object": b"[1]",
        "missing feature": dict(good, features={k: v for k, v in good["features"].items() if k != names[-1]}),
        "unknown feature": dict(good, features=dict(good["features"], not_a_feature=1.0)),
        "string feature": dict(good, features=dict(good["features"], **{names[0]: "1.0"})),
        "null feature": dict(good, features=dict(good["features"], **{names[0]: None})),
        "bool feature": dict(good, features=dict(good["features"], **{names[0]: True})),
        "feature beyond float range": dict(good, features=dict(good["features"], **{names[0]: 1e39})),
        "unknown field": dict(good, colour="red"),
        "unknown model": dict(good, model="no_such_model"),
        "other version": dict(good, version=987654),
    }
    mismatches = 0
    for what, case in bad.items():
        data = case if isinstance(case, bytes) else json.dumps(case).encode()
        (ca, ea), (cb, eb) = post(url_a, data), post(url_b, data)
        same = ca == cb and ea.get("field") == eb.get("field") and ca >= 400
        mismatches += not same
        if not same:
            print(f"parity: WARN  {what}: {name_a} {ca} {json.dumps(ea)} / {name_b} {cb} {json.dumps(eb)}")
    print(f"parity: errors  {len(bad) - mismatches}/{len(bad)} invalid bodies get the same status and field from both")
    return 0 if ok else 1


def versions():
    import importlib

    out = [f"python {sys.version.split()[0]}"]
    for name in ("fastapi", "starlette", "pydantic", "uvicorn", "xgboost", "numpy"):
        out.append(f"{name} {importlib.import_module(name).__version__}")
    # What `uvicorn --loop auto --http auto` picks: uvloop and httptools when installed.
    try:
        import uvloop
        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools
        http = f"httptools {getattr(httptools, '__version__', '?')}"
    except ImportError:
        http = "h11"
    print(", ".join(out) + f"; uvicorn loop {loop}, http {http}")


def freeport():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


if __name__ == "__main__":
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "body" and 1 <= len(args) <= 2:
        print(json.dumps(body(*args), separators=(",", ":")))
    elif command == "parity" and len(args) == 3:
        sys.exit(parity(*args))
    elif command == "versions":
        versions()
    elif command == "freeport":
        freeport()
    else:
        sys.exit(__doc__)
