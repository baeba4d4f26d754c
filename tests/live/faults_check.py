#!/usr/bin/env python3
"""The checks after a fault scenario of the live path (tests/live/live_faults_test.sh).

Prints one line per check, "OK <what>" or "BAD <what>", and "COUNT <what>" lines.
Usage: faults_check.py DIR BT_ORDERS_CSV BARS REDIS_PORT MODE
  DIR holds live/ (journal.jsonl, orders.csv), live.out (the last live's
  stdout), live.log, replay.out; MODE is "full" (live must send exactly the
  backtest's orders) or "halt" (only the orders before the halt).
"""
import csv
import json
import re
import socket
import sys
from collections import Counter

d, bt_csv, bars, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def ok(what):
    print(f"OK {what}")


def bad(what):
    print(f"BAD {what}")


def check(cond, what):
    (ok if cond else bad)(what)


# ---- a minimal RESP client (XRANGE) ----
def redis_cmd(*args):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    s.sendall(b"".join([f"*{len(args)}\r\n".encode()] +
                       [f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args]))

    def read():
        line = f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [read() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    r = read()
    s.close()
    return r


def xrange(key):
    out = []
    for eid, fields in redis_cmd("XRANGE", key, "-", "+"):
        out.append((eid, dict(zip(fields[0::2], fields[1::2]))))
    return out


# ---- (b) the orders: the backtest's ----
live = {}
live_order = []
for r in csv.DictReader(open(f"{d}/live/orders.csv")):
    k = int(r["cl_ord_id"].rsplit("-", 1)[1])
    live[k] = (r["side"], r["type"], int(r["qty"]), float(r["price"]), float(r["stop_price"]))
    live_order.append(k)
bt = {}
for r in csv.DictReader(open(bt_csv)):
    bt[int(r["id"])] = (r["side"], r["type"], int(r["qty"]), float(r["limit_price"] or 0), float(r["stop_price"] or 0))

journal = []
for line in open(f"{d}/live/journal.jsonl"):
    try:
        journal.append(json.loads(line))
    except ValueError:
        pass  # a torn last line: live dropped it at its next start
steps = [j for j in journal if j.get("k") == "step"]
print(f"COUNT journal: {len(journal)} records, {len(steps)} steps")

if mode == "full":
    if live == bt:
        ok(f"live's orders are the backtest's: {len(bt)} orders")
    else:
        diff = next(k for k in sorted(set(live) | set(bt)) if live.get(k) != bt.get(k))
        bad(f"order {diff}: live {live.get(diff)} vs backtest {bt.get(diff)} ({len(live)} live, {len(bt)} backtest)")
else:
    # The orders journaled before the halt took effect are the backtest's: the
    # first halt step of live, or the bridge's first refusal of an entry for
    # risk:halt (the bridge and live poll the flag independently, so entries
    # live sent in between are refused, and from there the books differ from
    # the backtest's by design).
    before = []
    for j in journal:
        if j.get("k") == "step" and j.get("t") == "halt":
            break
        if j.get("k") == "step" and j.get("t") == "report" and "risk:halt is set" in j.get("msg", ""):
            break
        if j.get("k") == "out" and '"order_new"' in j.get("msg", ""):
            m = json.loads(j["msg"])
            before.append(int(m["cl_ord_id"].rsplit("-", 1)[1]))
    # side, type, qty: a stop moved after the halt is not the backtest's.
    differ = [k for k in before if (live.get(k) or ())[:3] != (bt.get(k) or ())[:3]]
    first = f": first {differ[0]}: live {live.get(differ[0])} vs backtest {bt.get(differ[0])}" if differ else ""
    check(before and not differ,
          f"the {len(before)} orders before the halt are the backtest's ({len(differ)} differ{first})")
    check(any(j.get("t") == "halt" for j in steps), "live journaled a halt step")
    # While risk:halt is set, live sends no entry (a new day must not lift the books' halt).
    after, entries = False, []
    for j in journal:
        if j.get("k") == "step" and j.get("t") == "halt":
            after = True
        if after and j.get("k") == "out" and '"order_new"' in j.get("msg", ""):
            m = json.loads(j["msg"])
            if m.get("purpose") == "entry":
                entries.append(m["cl_ord_id"])
    check(not entries, f"no entry after the halt ({len(entries)}: {entries[:3]})")

# ---- (c) no order sent twice ----
orders = xrange("exec:orders")
new_ids = Counter()
for eid, f in orders:
    if f.get("type") != "order":
        continue
    m = json.loads(f["msg"])
    if m.get("type") == "order_new" and m["cl_ord_id"].startswith("F"):  # live's session (not the test's probe)
        new_ids[m["cl_ord_id"]] += 1
twice = [k for k, n in new_ids.items() if n > 1]
check(not twice, f"exec:orders: {len(new_ids)} order_new, each cl_ord_id once ({len(twice)} twice: {twice[:3]})")
check(len(new_ids) == len(live), f"exec:orders holds every order of live's orders.csv ({len(new_ids)} vs {len(live)})")
rep = open(f"{d}/replay.out").read()
m = re.search(r"(\d+) events, (\d+) sent, (\d+) orders, (\d+) fills, (\d+) connection", rep)
if not m:
    bad(f"the replay printed its summary: {rep!r}")
    sys.exit(0)
r_orders, r_fills, r_conns = int(m.group(3)), int(m.group(4)), int(m.group(5))
print(f"COUNT replay: {m.group(1)} events, {r_orders} orders, {r_fills} fills, {r_conns} connections in the last run")
fills_entries = xrange("exec:fills")
# Entries the bridge refused (risk:halt) never reach the terminal.
refused = {json.loads(f["msg"])["cl_ord_id"] for _, f in fills_entries if f.get("origin") == "bridge"}
reached = len(set(new_ids) - refused)
check(r_orders == reached, f"the terminal entered each order once ({r_orders} orders, {len(new_ids)} distinct "
      f"cl_ord_ids, {len(refused & set(new_ids))} refused by the bridge)")

# ---- (d) every input one step ----
bar_steps = Counter((j["sym"], j["bar"][0]) for j in steps if j["t"] == "bar")
start_steps = Counter((j["sym"], j["ts"]) for j in steps if j["t"] == "start")
reports = [json.loads(j["msg"]) for j in steps if j["t"] == "report"]
fill_steps = Counter(r["exec_id"] for r in reports if r["type"] == "fill")
print(f"COUNT steps: {sum(bar_steps.values())} bar, {sum(start_steps.values())} start, {len(reports)} report "
      f"({sum(fill_steps.values())} fills), {sum(1 for j in steps if j['t'] == 'halt')} halt")
check(len(bar_steps) == bars and max(bar_steps.values()) == 1,
      f"one bar step per bar ({sum(bar_steps.values())} steps, {len(bar_steps)} bars, {bars} expected)")
check(len(start_steps) == bars and max(start_steps.values()) == 1,
      f"one start step per minute ({sum(start_steps.values())} steps, {len(start_steps)} minutes, {bars} expected)")
fills_stream = Counter()
for eid, f in fills_entries:
    if f.get("type") == "fill":
        fills_stream[json.loads(f["msg"])["exec_id"]] += 1
check(max(fills_stream.values(), default=1) == 1, f"exec:fills holds each exec_id once ({len(fills_stream)})")
check(set(fill_steps) == set(fills_stream) and max(fill_steps.values(), default=1) == 1,
      f"one report step per fill exec_id ({sum(fill_steps.values())} steps, {len(fills_stream)} exec_ids)")
check(len(fill_steps) == r_fills, f"the terminal's fills are live's ({r_fills} vs {len(fill_steps)})")

# ---- (e) positions ----
rpos = {s: int(q) for s, q in re.findall(r"^  (\S+): position (-?\d+) @", rep, re.M)}
lout = open(f"{d}/live.out").read()
lpos = {s: int(q) for s, q in re.findall(r"^  (\S+): position (-?\d+)$", lout, re.M)}
syms = set(rpos) | set(lpos)
check(lpos and all(rpos.get(s, 0) == lpos.get(s, 0) for s in syms),
      f"the venue's final positions are live's: replay {rpos}, live {lpos}")
llog = open(f"{d}/live.log").read()
check("positions differ" not in llog, "live never saw the venue's positions differ from its books")
if mode == "full":
    check("HALTED" not in lout, "live did not halt")
