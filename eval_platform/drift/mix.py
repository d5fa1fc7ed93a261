"""Drift of a path's query mix, and the split of a pass-rate change into mix and quality effects.

A path's pass rate is R = sum_t w_t * r_t over task types t (w = share of the path's scored requests,
r = pass rate within the task type). Between a baseline (0) and now (1) the change splits exactly,
symmetrically (the Shapley split of the two factors), into

    mix effect     = sum_t (w1_t - w0_t) * (r0_t + r1_t) / 2     the path now sees different queries
    quality effect = sum_t (r1_t - r0_t) * (w0_t + w1_t) / 2     the same kinds of queries fare worse

and mix + quality = R1 - R0 exactly. A task type seen in only one period takes that period's rate for
the other, so it contributes only to the mix effect and the identity still holds.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.spatial.distance import jensenshannon


def js_divergence(p: dict[str, float], q: dict[str, float]) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between two task mixes given as counts or shares."""
    keys = sorted(set(p) | set(q))
    a = np.array([p.get(k, 0.0) for k in keys], dtype=float)
    b = np.array([q.get(k, 0.0) for k in keys], dtype=float)
    if a.sum() == 0 or b.sum() == 0:
        return float("nan")
    return float(jensenshannon(a / a.sum(), b / b.sum(), base=2) ** 2)


def decompose(baseline: pl.DataFrame, current: pl.DataFrame) -> dict[str, float]:
    """Mix and quality effects of one path on one scorer.

    Both frames hold one row per task type: task_type, n (scored requests), passes.
    Returns baseline_rate, current_rate, total, mix_effect, quality_effect.
    """
    joined = (
        baseline.select("task_type", n0="n", p0="passes")
        .join(current.select("task_type", n1="n", p1="passes"), on="task_type", how="full", coalesce=True)
        .fill_null(0)
    )
    n0, n1 = joined["n0"].sum(), joined["n1"].sum()
    if n0 == 0 or n1 == 0:  # one period alone has a rate, but nothing to split
        nan = float("nan")
        return {"baseline_rate": joined["p0"].sum() / n0 if n0 else nan, "current_rate": joined["p1"].sum() / n1 if n1 else nan,
                "total": nan, "mix_effect": nan, "quality_effect": nan}
    w0 = (joined["n0"] / n0).to_numpy()
    w1 = (joined["n1"] / n1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        r0 = np.where(joined["n0"] > 0, joined["p0"] / joined["n0"], np.nan)
        r1 = np.where(joined["n1"] > 0, joined["p1"] / joined["n1"], np.nan)
    r0 = np.where(np.isnan(r0), r1, r0)
    r1 = np.where(np.isnan(r1), r0, r1)
    mix = float(np.sum((w1 - w0) * (r0 + r1) / 2))
    quality = float(np.sum((r1 - r0) * (w0 + w1) / 2))
    before, after = float(np.sum(w0 * r0)), float(np.sum(w1 * r1))
    return {"baseline_rate": before, "current_rate": after, "total": after - before, "mix_effect": mix, "quality_effect": quality}
