#!/usr/bin/env python3
"""Validates JSON instances against the serve API's JSON Schemas (docs/contracts/).

Usage:
  python3 tests/contracts/validate.py SCHEMA_NAME JSON_FILE_OR_-
      Validates one instance (a file, or stdin for "-") against
      docs/contracts/SCHEMA_NAME.schema.json (draft 2020-12). Prints every error
      with its JSON path; exits 0 when valid, 1 when not (or when the instance is
      not strict JSON), 2 on a usage error (unknown schema, unreadable file).
  python3 tests/contracts/validate.py --self-test
      Checks that every schema is itself a valid draft 2020-12 schema with $id,
      title, description and examples; that every example validates; and that a
      list of deliberately wrong instances is rejected. Exits 0 when all hold.

Works with Debian 12's python3-jsonschema 4.10 and with newer releases: it
uses only Draft202012Validator, check_schema, iter_errors and json_path, and no
cross-file $ref (each schema is self-contained).

Strict JSON: NaN/Infinity (which Python's json module would otherwise accept)
and duplicate object keys are rejected, because the server's parser would
either refuse them or silently keep one of the duplicates.
"""

import json
import pathlib
import sys

try:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
except ImportError as e:  # pragma: no cover - environment problem, not a contract failure
    print(f"cannot import jsonschema ({e}); install python3-jsonschema (scripts/setup.sh does)", file=sys.stderr)
    sys.exit(2)

CONTRACTS_DIR = pathlib.Path(__file__).resolve().parents[2] / "docs" / "contracts"
ID_PREFIX = "https://quanttrading.invalid/contracts/serve/v1/"
MAX_MESSAGE = 200  # characters of one error message (messages quote the offending value)


class InstanceError(Exception):
    """The text is not strict JSON."""


def _reject_constant(name):
    raise InstanceError(f"{name} is not valid JSON (numbers must be finite)")


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise InstanceError(f"duplicate key {key!r} in an object")
        seen[key] = value
    return seen


def parse_strict(text):
    """json.loads without NaN/Infinity and without duplicate keys."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise InstanceError(f"not JSON: {e}") from None


def schema_path(name):
    return CONTRACTS_DIR / f"{name}.schema.json"


def load_schema(name):
    path = schema_path(name)
    with open(path, encoding="utf-8") as f:
        return parse_strict(f.read())


def schema_names():
    return sorted(p.name[: -len(".schema.json")] for p in CONTRACTS_DIR.glob("*.schema.json"))


def error_lines(schema, instance):
    """Every validation error as 'path: message' lines, sub-errors of
    oneOf/anyOf indented below their parent; empty when valid."""
    lines = []

    def describe(e):
        message = e.message
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        # A composite rule (if/then/else, not, oneOf) says little by itself;
        # the schema's own description of that rule says what was meant.
        if (e.validator in ("required", "not", "oneOf", "anyOf") and e.schema is not schema
                and isinstance(e.schema, dict) and isinstance(e.schema.get("description"), str)):
            message += f" ({e.schema['description']})"
        return message

    def walk(errors, depth):
        for e in sorted(errors, key=lambda err: (list(map(str, err.absolute_path)), err.message)):
            lines.append(f"{'  ' * depth}{e.json_path}: {describe(e)}")
            if e.context:
                walk(e.context, depth + 1)

    walk(Draft202012Validator(schema).iter_errors(instance), 0)
    return lines


def validate_command(name, source):
    path = schema_path(name)
    if not path.is_file():
        print(f"unknown schema {name!r}: {path} does not exist (have: {', '.join(schema_names())})",
              file=sys.stderr)
        return 2
    schema = load_schema(name)
    try:
        if source == "-":
            text = sys.stdin.read()
            label = "<stdin>"
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
            label = source
    except OSError as e:
        print(f"cannot read {source}: {e.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as e:
        print(f"{source}: not UTF-8 text: {e.reason} at byte {e.start}")
        return 1
    try:
        instance = parse_strict(text)
    except InstanceError as e:
        print(f"{label}: {e}")
        return 1
    lines = error_lines(schema, instance)
    if lines:
        print(f"{label}: INVALID against {name}.schema.json ({len(lines)} error line(s))")
        for line in lines:
            print(f"  {line}")
        return 1
    print(f"{label}: valid against {name}.schema.json")
    return 0


# Deliberately wrong instances: (schema, why it must fail, instance).
_ORDER = {"client_order_id": "strat-42-0001", "symbol": "WIN", "side": "buy", "qty": 2, "type": "market"}
_SCORE = {"model": "gatekeeper", "version": 3, "prob": 0.61, "q10": -45.0, "q90": 120.0, "pass": True,
          "reason": "passed", "target": 100, "stop": 300, "latency_us": 41}
_GATE = {"model": "g", "version": 1, "prob": 0.6, "q10": 0.0, "q90": 1.0, "pass": True, "reason": "passed"}
_ROW = {"prob": 0.5, "q10": 0.0, "q90": 1.0, "pass": True, "reason": "passed", "target": 1.0, "stop": 2.0}
_NO_STOP = "no stop distance (give stop or atr)"
_ORDER_RESPONSE = {
    "client_order_id": "strat-42-0001", "order_id": 17, "symbol": "WIN", "side": "buy", "type": "market",
    "tif": "day", "requested_qty": 5, "qty": 3, "price": None, "stop_price": None, "state": "accepted",
    "filled_qty": 0, "avg_fill_price": None,
    "risk": {"decision": "resized", "reason": "...", "stop_price": 117650},
    "reject_reason": None, "replayed": False}
_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

NEGATIVE = [
    ("infer_request", "missing feature object", {"model": "gatekeeper", "symbol": "WIN"}),
    ("infer_request", "both features and rows", {"features": {"a": 1.0}, "rows": [{"a": 1.0}]}),
    ("infer_request", "features not an object", {"features": [1.0, 2.0]}),
    ("infer_request", "empty features object", {"features": {}}),
    ("infer_request", "non-numeric feature", {"features": {"ret_1": "0.1"}}),
    ("infer_request", "boolean feature", {"features": {"ret_1": True}}),
    ("infer_request", "empty rows", {"rows": []}),
    ("infer_request", "1025 rows", {"rows": [{"a": 0.0}] * 1025}),
    ("infer_request", "non-numeric feature in a row", {"rows": [{"a": 0.0}, {"a": None}]}),
    ("infer_request", "version 'latest'", {"version": "latest", "features": {"a": 1.0}}),
    ("infer_request", "version 0", {"version": 0, "features": {"a": 1.0}}),
    ("infer_request", "unknown top-level field", {"features": {"a": 1.0}, "threshold": 0.5}),
    ("infer_request", "negative atr", {"features": {"a": 1.0}, "atr": -1.0}),
    ("infer_request", "target as a string", {"features": {"a": 1.0}, "target": "100"}),
    ("infer_request", "both stop and atr", {"features": {"a": 1.0}, "stop": 300, "atr": 150}),
    ("infer_request", "atr array for one row", {"features": {"a": 1.0}, "atr": [150]}),
    ("infer_request", "negative stop in a batch array", {"rows": [{"a": 1.0}], "stop": [-1]}),
    ("infer_response", "prob 1.5", dict(_SCORE, prob=1.5)),
    ("infer_response", "negative latency", dict(_SCORE, latency_us=-1)),
    ("infer_response", "fractional latency", dict(_SCORE, latency_us=4.5)),
    ("infer_response", "pass not boolean", dict(_SCORE, **{"pass": 1})),
    ("infer_response", "missing q90", {k: v for k, v in _SCORE.items() if k != "q90"}),
    ("infer_response", "missing reason", {k: v for k, v in _SCORE.items() if k != "reason"}),
    ("infer_response", "missing stop", {k: v for k, v in _SCORE.items() if k != "stop"}),
    ("infer_response", "unknown reason", dict(_SCORE, **{"pass": False, "reason": "looks risky"})),
    ("infer_response", "pass true with a failure reason", dict(_SCORE, reason="q90 below the target")),
    ("infer_response", "pass null with reason 'passed'", dict(_SCORE, **{"pass": None, "stop": None})),
    ("infer_response", "pass false with the no-stop reason", dict(_SCORE, **{"pass": False, "reason": _NO_STOP})),
    ("infer_response", "negative target", dict(_SCORE, target=-1)),
    ("infer_response", "gate with prob -0.1", dict(_SCORE, gates=[dict(_GATE, prob=-0.1)])),
    ("infer_response", "gate without reason", dict(_SCORE, gates=[{k: v for k, v in _GATE.items() if k != "reason"}])),
    ("infer_response", "batch row with prob 1.5",
     {"model": "g", "version": 1, "rows": [dict(_ROW, prob=1.5)], "latency_us": 3}),
    ("infer_response", "batch row without target",
     {"model": "g", "version": 1, "rows": [{k: v for k, v in _ROW.items() if k != "target"}], "latency_us": 3}),
    ("infer_response", "batch with top-level prob",
     {"model": "g", "version": 1, "prob": 0.5, "rows": [_ROW], "latency_us": 3}),
    ("infer_response", "batch with top-level stop",
     {"model": "g", "version": 1, "stop": 2.0, "rows": [_ROW], "latency_us": 3}),
    ("order_request", "qty 0", dict(_ORDER, qty=0)),
    ("order_request", "fractional qty", dict(_ORDER, qty=1.5)),
    ("order_request", "limit without price", dict(_ORDER, type="limit")),
    ("order_request", "stop without stop_price", dict(_ORDER, type="stop", price=118000)),
    ("order_request", "side 'long'", dict(_ORDER, side="long")),
    ("order_request", "type 'stop_limit'", dict(_ORDER, type="stop_limit", price=1.0, stop_price=1.0)),
    ("order_request", "tif 'fok'", dict(_ORDER, tif="fok")),
    ("order_request", "price 0", dict(_ORDER, type="limit", price=0)),
    ("order_request", "client_order_id with a space", dict(_ORDER, client_order_id="strat 42")),
    ("order_request", "client_order_id of 65 characters", dict(_ORDER, client_order_id="x" * 65)),
    ("order_request", "empty client_order_id", dict(_ORDER, client_order_id="")),
    ("order_request", "missing symbol", {k: v for k, v in _ORDER.items() if k != "symbol"}),
    ("order_request", "unknown field", dict(_ORDER, account="A1")),
    ("order_response", "state 'done'", dict(_ORDER_RESPONSE, state="done")),
    ("order_response", "risk decision 'maybe'",
     dict(_ORDER_RESPONSE, risk={"decision": "maybe", "reason": "", "stop_price": None})),
    ("order_response", "missing reject_reason", {k: v for k, v in _ORDER_RESPONSE.items() if k != "reject_reason"}),
    ("order_response", "avg_fill_price as string", dict(_ORDER_RESPONSE, avg_fill_price="118250")),
    ("error", "missing error", {"field": "qty"}),
    ("error", "field not a string", {"error": "bad", "field": 3}),
    ("models_response", "short manifest hash",
     {"generation": 1, "gates": [{"name": "g", "version": 1, "source": "models/g", "manifest_sha256": "abc",
                                  "features": ["a"], "outputs": ["prob"], "p_min": 0.5, "use_quantiles": True,
                                  "loaded_at": "2026-11-25T23:50:00Z"}]}),
    ("models_response", "use_quantiles not boolean",
     {"generation": 1, "gates": [{"name": "g", "version": 1, "source": "models/g", "manifest_sha256": _SHA,
                                  "features": ["a"], "outputs": ["prob"], "p_min": 0.5, "use_quantiles": 1,
                                  "loaded_at": "2026-11-25T23:50:00Z"}]}),
    ("reload_response", "status 'ok'",
     {"status": "ok", "generation": 3, "gates": [{"name": "g", "version": 1, "manifest_sha256": _SHA}]}),
    ("health_response", "ready without gates", {"status": "ready"}),
    ("health_response", "not_ready without reason", {"status": "not_ready"}),
    ("health_response", "ok with a reason", {"status": "ok", "reason": "x"}),
    ("health_response", "status 'up'", {"status": "up"}),
]

# Texts that must not even parse: the server's JSON has no NaN and no duplicate keys.
NOT_STRICT_JSON = [
    ("NaN feature", '{"features": {"ret_1": NaN}}'),
    ("Infinity feature", '{"features": {"ret_1": Infinity}}'),
    ("duplicate key", '{"features": {"ret_1": 1.0, "ret_1": 2.0}}'),
]


def self_test():
    failures = []
    names = schema_names()
    expected = {"infer_request", "infer_response", "order_request", "order_response", "error",
                "models_response", "reload_response", "health_response"}
    missing = expected - set(names)
    if missing:
        failures.append(f"missing schema files: {', '.join(sorted(missing))}")
    schemas = {}
    for name in names:
        try:
            schema = load_schema(name)
            Draft202012Validator.check_schema(schema)
        except (InstanceError, SchemaError) as e:
            failures.append(f"{name}: not a valid draft 2020-12 schema: {getattr(e, 'message', e)}")
            continue
        schemas[name] = schema
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            failures.append(f"{name}: $schema is not draft 2020-12")
        if schema.get("$id") != f"{ID_PREFIX}{name}.schema.json":
            failures.append(f"{name}: $id {schema.get('$id')!r} does not match the file name")
        for key in ("title", "description"):
            if not isinstance(schema.get(key), str) or not schema[key]:
                failures.append(f"{name}: no {key}")
        examples = schema.get("examples")
        if not isinstance(examples, list) or not examples:
            failures.append(f"{name}: no examples")
            continue
        for i, example in enumerate(examples):
            for line in error_lines(schema, example):
                failures.append(f"{name}: examples[{i}] rejected: {line}")
        print(f"ok   {name}: valid schema, {len(examples)} example(s) valid")

    for name, why, instance in NEGATIVE:
        if name not in schemas:
            failures.append(f"{name}: cannot check wrong instance ({why}): schema missing or invalid")
            continue
        lines = error_lines(schemas[name], instance)
        if lines:
            print(f"ok   {name} rejects {why}: {lines[0]}")
        else:
            failures.append(f"{name}: wrong instance accepted: {why}")
    for why, text in NOT_STRICT_JSON:
        try:
            parse_strict(text)
            failures.append(f"parser accepted a non-strict JSON text: {why}")
        except InstanceError as e:
            print(f"ok   parser rejects {why}: {e}")

    if failures:
        for f in failures:
            print(f"FAIL {f}")
        print(f"self-test FAILED: {len(failures)} problem(s)")
        return 1
    print(f"self-test passed: {len(schemas)} schemas, {len(NEGATIVE)} wrong instances rejected, "
          f"{len(NOT_STRICT_JSON)} non-strict texts refused")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) == 2 and not argv[0].startswith("-"):
        return validate_command(argv[0], argv[1])
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
