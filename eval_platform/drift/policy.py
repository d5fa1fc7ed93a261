"""Evaluating the routing policy itself: replay a window's traffic through a policy and estimate quality and cost.

Each request is assigned a model by the policy. Its expected outcome on a scorer is the pass rate of
that (model, task type) cell: from online scores where that model really served that kind of query
(at least `min_online_n` scored requests), else from the offline slice results, else the request is
left out of that scorer's estimate and the basis says so. The estimate is the request-weighted mean of
cell rates with a normal interval from the cells' binomial variances (a stratified estimator; a cell at
0 or 100% uses (passes + 0.5) / (n + 1) for its variance, so 30 clean items do not claim certainty); the
cost is the sum of each cell's mean cost per request.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import polars as pl
from scipy.stats import norm


class PolicyError(ValueError):
    """A policy that cannot be loaded or that returns something unusable; names the policy and record."""


def load_policy(name: str, spec: str | dict[str, str] | None) -> Callable[[dict], str]:
    """A callable for a policy spec: "module:function", a {task_type: model-or-path, "*": default} table,
    or None (the routing observed in the logs)."""
    if spec is None:
        return lambda record: record["served_model"]
    if isinstance(spec, dict):
        table = dict(spec)

        def route(record: dict) -> str:
            target = table.get(record.get("task_type") or "", table.get("*"))
            return target if target is not None else record["routing_path"]

        return route
    module_name, _, attr = spec.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PolicyError(f"policy {name!r}: cannot import {spec!r} ({exc})") from None
    if not callable(func):
        raise PolicyError(f"policy {name!r}: {spec!r} is not callable")
    return func


def assign_models(
    records: pl.DataFrame, name: str, policy: Callable[[dict], str], path_models: dict[str, str], known_models: set[str]
) -> pl.DataFrame:
    """Apply `policy` to every request; a returned path maps to that path's main serving model."""
    targets: list[str] = []
    for record in records.iter_rows(named=True):  # a user's Python policy is opaque: one call per request
        try:
            target = policy(record)
        except Exception as exc:
            raise PolicyError(f"policy {name!r} raised {type(exc).__name__}: {exc} on record {record['record_id']!r}") from exc
        if target in path_models:
            target = path_models[target]
        elif target not in known_models:
            raise PolicyError(
                f"policy {name!r} returned {target!r} for record {record['record_id']!r}: not a known routing path "
                f"({sorted(path_models)}) or model ({sorted(known_models)})"
            )
        targets.append(target)
    return records.with_columns(model=pl.Series(targets, dtype=pl.String))


def estimate(
    assigned: pl.DataFrame, online_cells: pl.DataFrame, offline_cells: pl.DataFrame, costs: pl.DataFrame,
    *, min_online_n: int, alpha: float = 0.05,
) -> pl.DataFrame:
    """Per scorer: estimated pass rate, interval, cost and basis for requests assigned to (model, task_type).

    online_cells / offline_cells: model, task_type, scorer, n, passes.  costs: model, task_type, cost_per_request.
    """
    volume = assigned.group_by("model", "task_type").agg(requests=pl.len())
    # a (model, task type) seen for a scorer with no applicable item (e.g. citations on code) is not "missing data"
    seen = pl.concat([online_cells, offline_cells]).group_by("model", "task_type", "scorer").agg(pl.col("n").sum())
    not_applicable = seen.filter(pl.col("n") == 0).drop("n")
    online = online_cells.filter(pl.col("n") >= min_online_n).with_columns(basis=pl.lit("online"))
    offline = offline_cells.filter(pl.col("n") > 0).join(online, on=["model", "task_type", "scorer"], how="anti").with_columns(basis=pl.lit("offline"))
    cells = pl.concat([online, offline]).with_columns(rate=pl.col("passes") / pl.col("n"))
    scorers = cells["scorer"].unique().sort().to_list()
    z = norm.ppf(1 - alpha / 2)
    total_cost = volume.join(costs, on=["model", "task_type"], how="left")
    cost = float((total_cost["requests"] * total_cost["cost_per_request"]).sum() or 0.0)
    cost_known = total_cost.filter(pl.col("cost_per_request").is_not_null())["requests"].sum()
    rows = []
    for scorer in scorers:
        used = volume.join(cells.filter(pl.col("scorer") == scorer), on=["model", "task_type"], how="left").join(
            not_applicable.filter(pl.col("scorer") == scorer).drop("scorer"), on=["model", "task_type"], how="anti"
        )
        covered = used.filter(pl.col("rate").is_not_null())
        n_req = int(covered["requests"].sum() or 0)
        if n_req == 0:
            continue
        weight = covered["requests"] / n_req
        rate = float((weight * covered["rate"]).sum())
        # a cell at 0% or 100% still carries uncertainty: its variance uses (passes + 0.5) / (n + 1)
        shrunk = (covered["passes"] + 0.5) / (covered["n"] + 1)
        var = float((weight**2 * shrunk * (1 - shrunk) / covered["n"]).sum())
        half = z * math.sqrt(var)
        share = covered.group_by("basis").agg(pl.col("requests").sum()).sort("basis")
        uncovered = used.filter(pl.col("rate").is_null()).select(pl.format("{} on {}", "task_type", "model")).to_series().unique().sort().to_list()
        basis = ", ".join(f"{r['basis']} scores for {r['requests']} requests" for r in share.iter_rows(named=True))
        if uncovered:
            basis += f"; no data for {', '.join(uncovered[:6])} (left out)"
        rows.append({
            "scorer": scorer, "requests": n_req, "pass_rate": rate, "ci_low": max(0.0, rate - half),
            "ci_high": min(1.0, rate + half), "cost_usd": cost if cost_known else None,
            "basis": basis + f"; cost from mean cost per request of each (model, task type), known for {cost_known} of {int(volume['requests'].sum())} requests",
        })
    return pl.DataFrame(rows, schema={"scorer": pl.String, "requests": pl.Int64, "pass_rate": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "cost_usd": pl.Float64, "basis": pl.String})
