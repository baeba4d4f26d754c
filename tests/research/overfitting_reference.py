#!/usr/bin/python3
"""Independent reference values for src/research/overfitting_test.cpp.

Written apart from the C++ (scipy for Φ, Φ⁻¹, skewness and kurtosis; CSCV as a
plain loop over itertools.combinations with numpy Sharpe ratios and scipy's
average ranks), so the test compares two implementations, not one with itself.
Run: /usr/bin/python3 tests/research/overfitting_reference.py   (Debian's python3-scipy)
The returns come from a 32-bit LCG reproduced bit for bit in the C++ test
(`lcg_returns`): integers scaled by powers of ten, identical in both languages.
"""
import itertools
import math

import numpy as np
from scipy.stats import kurtosis, norm, rankdata, skew

EULER_GAMMA = 0.5772156649015328606


def lcg_returns(seed, count, drift):
    """count returns: (u mod 2001 − 1000)·1e-5 + drift, u from x ← (1664525·x + 1013904223) mod 2³²."""
    x, out = seed, []
    for _ in range(count):
        x = (1664525 * x + 1013904223) % 2**32
        out.append(((x >> 8) % 2001 - 1000) / 100000.0 + drift)
    return np.array(out)


def psr(sr, t, g3, g4, sr_star):
    return norm.cdf((sr - sr_star) * math.sqrt(t - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr * sr))


def sr0(n, v):
    return math.sqrt(v) * ((1 - EULER_GAMMA) * norm.ppf(1 - 1 / n) + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e)))


def sharpe(x):
    sd = x.std(ddof=1)
    return 0.0 if sd == 0 else x.mean() / sd


def cscv(m, s):
    """m: T×N. Returns λ per combination, PBO, P(loss), OLS slope and intercept of OOS on IS."""
    t, n = m.shape
    b = t // s
    m = m[t - b * s:]
    lam, is_sr, oos_sr = [], [], []
    for c in itertools.combinations(range(s), s // 2):
        rows_is = np.concatenate([np.arange(i * b, (i + 1) * b) for i in c])
        rows_oos = np.concatenate([np.arange(i * b, (i + 1) * b) for i in range(s) if i not in c])
        r_is = np.array([sharpe(m[rows_is, k]) for k in range(n)])
        r_oos = np.array([sharpe(m[rows_oos, k]) for k in range(n)])
        best = np.flatnonzero(r_is == r_is.max())
        k = best[np.argmin(r_oos[best])]
        w = rankdata(r_oos, method="average")[k] / (n + 1)
        lam.append(math.log(w / (1 - w)))
        is_sr.append(r_is[k])
        oos_sr.append(r_oos[k])
    lam, is_sr, oos_sr = map(np.array, (lam, is_sr, oos_sr))
    slope, intercept = np.polyfit(is_sr, oos_sr, 1)
    return lam, (lam <= 0).mean(), (oos_sr < 0).mean(), slope, intercept


def main():
    print("Phi^-1:", {p: repr(norm.ppf(p)) for p in (0.975, 0.999, 1e-10, 1 - 1e-10, 0.3, 1e-300)})
    print("Phi:", {x: repr(norm.cdf(x)) for x in (-1.0, 2.5, -9.0, -37.5)})

    # DSR paper example: annualised SR 2.5 and V = 1/2 (annualised), 250 days a year, T = 1250.
    sr, t, v, n = 2.5 / math.sqrt(250), 1250, 0.5 / 250, 100
    print("paper: SR per day", repr(sr), "SR0", repr(sr0(n, v)), "DSR", repr(psr(sr, t, -3, 10, sr0(n, v))))
    print("SR0 N=2 V=1", repr(sr0(2, 1.0)), "N=1000 V=0.01", repr(sr0(1000, 0.01)))

    r = lcg_returns(7, 500, 0.0004)
    m = dict(mean=r.mean(), sd=r.std(ddof=1), skew=skew(r), kurt=kurtosis(r, fisher=False))
    sr = m["mean"] / m["sd"]
    print("series lcg(7, 500, 0.0004):", {k: repr(x) for k, x in m.items()}, "sharpe", repr(sr))
    print("  PSR(0)", repr(psr(sr, 500, m["skew"], m["kurt"], 0.0)),
          "PSR(0.05)", repr(psr(sr, 500, m["skew"], m["kurt"], 0.05)),
          "DSR(N=20, V=0.002)", repr(psr(sr, 500, m["skew"], m["kurt"], sr0(20, 0.002))))

    # 9 periods × 3 trials: with S = 4 the oldest period is left out, 2 periods per block.
    small = np.column_stack([lcg_returns(70 + k, 9, 0.0) for k in range(3)])
    lam, pbo, loss, slope, intercept = cscv(small, 4)
    print("small S=4 N=3: lambda", [repr(x) for x in lam], "PBO", pbo, "loss", loss,
          "slope", repr(slope), "intercept", repr(intercept))

    cols = [lcg_returns(100 + k, 240, 0.0002 * k) for k in range(5)]
    lam, pbo, loss, slope, intercept = cscv(np.column_stack(cols), 8)
    print("lcg S=8 N=5 T=240: PBO", repr(pbo), "loss", repr(loss), "slope", repr(slope),
          "intercept", repr(intercept), "mean lambda", repr(lam.mean()), "lambda[0:5]", [repr(x) for x in lam[:5]])


if __name__ == "__main__":
    main()
