"""Small-sample statistics for gap tables (DESIGN section 7), on scipy.

- Pass rates: Wilson score intervals.
- A path against the rest of the paths (different items, unpaired): two-sided Boschloo exact test,
  Fisher's exact test when the 2x2 table is too large for Boschloo to be quick (more than
  BOSCHLOO_MAX_CELLS possible tables) or when Boschloo fails; the gap's interval is Newcombe's hybrid
  score interval for a difference of independent proportions (Newcombe 1998, method 10).
- Two models on the same items (paired): exact McNemar (two-sided binomial test on the discordant
  pairs), and Newcombe's hybrid score interval for paired proportions (Newcombe 1998, method 10, as given
  by Fagerland, Lydersen and Laake 2014, with the phi correlation estimate and no continuity correction).
- Benjamini-Hochberg q-values across every test of one table (NaN p-values are ignored and stay NaN).
- The minimum detectable gap: normal approximation to the two-sided two-proportion z-test (pooled
  variance under H0, unpooled under H1), solved for the smallest gap BELOW the rest's rate that is
  detected with the given power; NaN when no such gap exists (e.g. the rest already fails everything).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

BOSCHLOO_MAX_CELLS = 20_000  # (n+1)*(rest_n+1): 30 x 640 items take about 0.15 s
NAN = float("nan")


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def wilson_interval(passes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for passes/n; (nan, nan) when n is 0."""
    if n is None or n <= 0 or passes is None:
        return NAN, NAN
    z, p = _z(alpha), passes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def path_gap_test(passes: int, n: int, rest_passes: int, rest_n: int) -> float:
    """Two-sided exact p-value that a path's pass rate differs from the rest's (Boschloo, else Fisher)."""
    if not n or not rest_n:
        return NAN
    table = [[passes, rest_passes], [n - passes, rest_n - rest_passes]]
    if (n + 1) * (rest_n + 1) <= BOSCHLOO_MAX_CELLS:
        try:
            p = float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
            if math.isfinite(p):
                return min(1.0, p)
        except (ValueError, FloatingPointError, RuntimeError):
            pass  # Fisher below
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def gap_interval(passes: int, n: int, rest_passes: int, rest_n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe hybrid score interval for pass_rate - rest_pass_rate (independent samples)."""
    if not n or not rest_n:
        return NAN, NAN
    p1, p2 = passes / n, rest_passes / rest_n
    l1, u1 = wilson_interval(passes, n, alpha)
    l2, u2 = wilson_interval(rest_passes, rest_n, alpha)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts b (only A passes) and c (only B passes)."""
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)


def paired_interval(both: int, only_a: int, only_b: int, neither: int, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe method-10 interval for rate(A) - rate(B) on the same items (2x2 counts of passes)."""
    n = both + only_a + only_b + neither
    if n == 0:
        return NAN, NAN
    pa, pb = (both + only_a) / n, (both + only_b) / n
    la, ua = wilson_interval(both + only_a, n, alpha)
    lb, ub = wilson_interval(both + only_b, n, alpha)
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = (both * neither - only_a * only_b) / math.sqrt(margins) if margins else 0.0
    d = pa - pb
    low = d - math.sqrt(max(0.0, (pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2))
    high = d + math.sqrt(max(0.0, (pb - lb) ** 2 - 2 * phi * (pb - lb) * (ua - pa) + (ua - pa) ** 2))
    return max(-1.0, low), min(1.0, high)


def benjamini_hochberg(pvals: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values; NaN (or None) p-values are left out of the count and stay NaN."""
    p = np.asarray([NAN if v is None else v for v in pvals], dtype=float)
    q = np.full(p.shape, NAN)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return q


def _two_proportion_power(p1: float, p2: float, n: int, m: int, alpha: float) -> float:
    pooled = (n * p1 + m * p2) / (n + m)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    se1 = math.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / m)
    if se1 == 0:
        return 1.0 if p1 != p2 else 0.0
    return float(stats.norm.cdf((abs(p1 - p2) - _z(alpha) * se0) / se1))


def min_detectable_gap(n: int, rest_n: int, rest_rate: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest gap d (rate = rest_rate - d) a two-sided test at alpha detects with `power` (normal approx.)."""
    if not n or not rest_n or rest_rate is None or not math.isfinite(rest_rate) or rest_rate <= 0:
        return NAN

    def shortfall(d: float) -> float:
        return _two_proportion_power(rest_rate - d, rest_rate, n, rest_n, alpha) - power

    if shortfall(rest_rate) < 0:
        return NAN  # even a path that fails everything would be missed
    return float(optimize.brentq(shortfall, 1e-9, rest_rate, xtol=1e-6))
