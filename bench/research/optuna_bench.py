#!/usr/bin/env python3
"""Optuna 3.1's TPESampler (defaults) and RandomSampler on Branin, Hartmann-6 and
Rosenbrock-4: the peer side of bench/research/run.sh.

For each problem and sampler, SEEDS studies (TPESampler(seed=s) / RandomSampler(seed=s))
of up to TRIALS trials each; prints one tab-separated line per (problem, sampler):
  optuna <sampler> <problem> <tolerance> <reached> <median trials-to-tolerance> <median best> <ask ms>
trials-to-tolerance = the first trial (1-based) whose value is within `tolerance` of the
minimum; a study that never gets there counts as TRIALS + 1 (">TRIALS" in the table).
ask ms = median time of study.ask() plus the suggest_* calls (Optuna samples lazily, in
suggest) over trials TRIALS-10 .. TRIALS-1, all seeds.
Usage: optuna_bench.py [SEEDS=20] [TRIALS=200] [--dump FILE] (per-study values as JSON)
       optuna_bench.py --one-step N HISTORY: one TPE step on a fixed history (60 uniform random
       Rosenbrock-4 trials, written to HISTORY as JSON for tpe_bench --one-step): the 10/25/50/75/90 %
       quantiles of the x0 and x1 that TPESampler(seed=s) picks for trial 60, s = 0 .. N-1. Same
       algorithm, same defaults: the same distribution, whatever the RNG.
"""
import json
import math
import statistics
import sys
import time

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

A6 = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
P6 = np.array([[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
               [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
               [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
               [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]])
ALPHA6 = np.array([1.0, 1.2, 3.0, 3.2])


def branin(x):
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(ALPHA6 * np.exp(-np.sum(A6 * (x - P6) ** 2, axis=1))))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


# name, bounds, function, minimum, tolerance (keep in step with tpe_bench.cpp)
PROBLEMS = [
    ("branin", [(-5, 10), (0, 15)], branin, 0.397887, 0.1),
    ("hartmann6", [(0, 1)] * 6, hartmann6, -3.32237, 0.2),
    ("rosenbrock4", [(-5, 10)] * 4, rosenbrock, 0.0, 20.0),
]


def run(sampler, bounds, f, trials):
    study = optuna.create_study(sampler=sampler)
    values, asks = [], []
    for k in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        x = [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
        t1 = time.perf_counter()
        v = f(x)
        study.tell(trial, v)
        values.append(v)
        if k >= trials - 10:
            asks.append(t1 - t0)
    return values, asks


def one_step(n, path):
    rng = np.random.RandomState(0)
    hist = []
    for _ in range(60):
        x = [float(v) for v in rng.uniform(-5, 10, 4)]
        hist.append({"x": x, "v": rosenbrock(x)})
    with open(path, "w") as fh:
        json.dump(hist, fh)
    dists = {f"x{i}": optuna.distributions.FloatDistribution(-5, 10) for i in range(4)}
    picks = []
    for s in range(n):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=s))
        for h in hist:
            study.add_trial(optuna.trial.create_trial(
                params={f"x{i}": h["x"][i] for i in range(4)}, distributions=dists, value=h["v"]))
        trial = study.ask()
        picks.append([trial.suggest_float(f"x{i}", -5, 10) for i in range(4)])
    picks = np.array(picks)
    q = [10, 25, 50, 75, 90]
    print("optuna\tone-step\t" + " ".join(f"{v:.3f}" for v in np.percentile(picks[:, 0], q)) + "\t"
          + " ".join(f"{v:.3f}" for v in np.percentile(picks[:, 1], q)) + f"\t{n}")


def main():
    if "--one-step" in sys.argv:
        i = sys.argv.index("--one-step")
        one_step(int(sys.argv[i + 1]), sys.argv[i + 2])
        return
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seeds = int(args[0]) if args else 20
    trials = int(args[1]) if len(args) > 1 else 200
    dump = sys.argv[sys.argv.index("--dump") + 1] if "--dump" in sys.argv else None
    out = {}
    for name, bounds, f, minimum, tol in PROBLEMS:
        for label, make in (("tpe", lambda s: optuna.samplers.TPESampler(seed=s)),
                            ("random", lambda s: optuna.samplers.RandomSampler(seed=s))):
            to_tol, bests, asks = [], [], []
            for s in range(seeds):
                values, a = run(make(s), bounds, f, trials)
                out[f"{name}/{label}/{s}"] = values
                hit = next((i + 1 for i, v in enumerate(values) if v <= minimum + tol), trials + 1)
                to_tol.append(hit)
                bests.append(min(values))
                asks.extend(a)
            reached = sum(t <= trials for t in to_tol)
            print(f"optuna\t{label}\t{name}\t{tol:g}\t{reached}/{seeds}\t{statistics.median(to_tol):g}\t"
                  f"{statistics.median(bests):.6g}\t{1000 * statistics.median(asks):.3f}", flush=True)
    if dump:
        with open(dump, "w") as fh:
            json.dump(out, fh)


if __name__ == "__main__":
    main()
