#!/usr/bin/env python3
"""Evaluates every PromQL expression of the Grafana dashboards and the alert
rules against a running Prometheus; each must return data.

usage: check_queries.py API_URL DASHBOARD_DIR RULES_FILE

- Dashboards: every `targets[].expr` of every panel (rows included), with
  Grafana's variables substituted: $__rate_interval → 1m, $symbol → .* (the
  template's "All").
- Rules: an expression that is a comparison is evaluated without its
  threshold (the left operand: what the alert watches must exist); HaltRaised
  must fire as written (the test set risk:halt) and show in /api/v1/alerts.
  /api/v1/rules must list every rule of the file with health "ok".
Exits 1 listing every expression that returned nothing, NaN only, or an error.
"""
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

API, DASHBOARDS, RULES = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
MUST_FIRE = {"HaltRaised"}
VARIABLES = {"$__rate_interval": "1m", "$symbol": ".*"}


def get(path, **params):
    url = f"{API}/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def query(expr):
    """(ok, text): ok when the answer holds at least one sample with a finite value."""
    try:
        answer = get("query", query=expr)
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code}: {e.read().decode(errors='replace')[:200]}"
    if answer.get("status") != "success":
        return False, f"error: {answer}"
    data = answer["data"]
    if data["resultType"] == "scalar":
        values = [data["result"][1]]
    else:
        values = [r["value"][1] for r in data["result"]]
    if not values:
        return False, "no data"
    finite = [v for v in values if v not in ("NaN", "+Inf", "-Inf")]
    if not finite:
        return False, f"only {values[:3]}"
    return True, f"{len(values)} series, e.g. {finite[0]}"


def left_operand(expr):
    """The left side of the top-level comparison of `expr`, or None when it has none."""
    depth, i, quote = 0, 0, None
    while i < len(expr):
        c = expr[i]
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            two = expr[i:i + 2]
            if two in ("==", "!=", ">=", "<="):
                return expr[:i].strip()
            if c in "<>" and two not in ("<=", ">="):
                return expr[:i].strip()
        i += 1
    return None


def dashboard_exprs():
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        stack = list(board.get("panels", []))
        while stack:
            panel = stack.pop(0)
            stack.extend(panel.get("panels", []))
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if expr:
                    for k, v in VARIABLES.items():
                        expr = expr.replace(k, v)
                    yield f"{path.name}: {panel.get('title')}", expr


failures = []
checked = 0
for where, expr in dashboard_exprs():
    good, text = query(expr)
    checked += 1
    print(f"  {'ok' if good else 'FAIL'}: {where}: {expr} -> {text}")
    if not good:
        failures.append(f"{where}: {expr}: {text}")

rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
for rule in rules:
    name, expr = rule.get("alert") or rule.get("record"), rule["expr"].strip()
    if name in MUST_FIRE:
        good, text = query(expr)
        what = "as written (must fire)"
    else:
        operand = left_operand(expr)
        good, text = query(operand if operand else expr)
        what = f"operand {operand}" if operand else "as written"
    checked += 1
    print(f"  {'ok' if good else 'FAIL'}: rule {name}: {what} -> {text}")
    if not good:
        failures.append(f"rule {name}: {what}: {text}")

# The alert fires (HaltRaised has no `for`: the next evaluation after the scrape).
firing = set()
for _ in range(30):
    firing = {a["labels"]["alertname"] for a in get("alerts")["data"]["alerts"] if a["state"] == "firing"}
    if MUST_FIRE <= firing:
        break
    time.sleep(0.5)
for name in sorted(MUST_FIRE - firing):
    failures.append(f"alert {name} is not firing (firing: {sorted(firing)})")
print(f"  firing: {sorted(firing)}")

loaded = {r["name"]: r for g in get("rules")["data"]["groups"] for r in g["rules"]}
for rule in rules:
    name = rule.get("alert") or rule.get("record")
    r = loaded.get(name)
    if r is None:
        failures.append(f"rule {name}: not loaded by Prometheus")
    elif r.get("health") != "ok":
        failures.append(f"rule {name}: health {r.get('health')}: {r.get('lastError')}")

print(f"{checked} expressions checked, {len(loaded)} rules loaded, {len(failures)} problems")
for f in failures:
    print(f"  FAIL: {f}")
sys.exit(1 if failures else 0)
