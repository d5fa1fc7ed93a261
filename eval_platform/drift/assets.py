"""Drift assets: each path's query mix over time, offline-versus-online gaps, and the routing policy itself."""


import json
import math
from datetime import date, timedelta

import dagster as dg
import polars as pl

from eval_platform.drift.mix import decompose, js_divergence
from eval_platform.drift.policy import assign_models, estimate, load_policy
from eval_platform.evals.assets import corpus_version_for
from eval_platform.gaps.stats import wilson_interval
from eval_platform.partitions import DRIFT_WINDOW, WINDOW, daily
from eval_platform.publish.charts import drift_chart_spec
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.sessions.build import window_bounds
from eval_platform.warehouse import replace_rows, transaction

DRIFT_CHECK = "mix_drift_below_threshold"

_MIX_SQL = "SELECT routing_path, coalesce(task_type, '(none)') AS task_type, count(*) AS n FROM log_records WHERE day BETWEEN ? AND ? GROUP BY ALL"
_CELLS_SQL = """
SELECT routing_path, scorer, coalesce(task_type, '(none)') AS task_type, count(passed) AS n, count(*) FILTER (WHERE passed) AS passes
FROM online_scores WHERE day BETWEEN ? AND ? GROUP BY ALL HAVING count(passed) > 0
"""


CHART_DAYS = 90  # the drift chart in the UI metadata shows this many days, so it does not grow with history


def baseline_bounds(day: date, baseline_days: int, lag_days: int) -> tuple[date, date]:
    """The baseline window: `baseline_days` ending `lag_days` before `day`."""
    return window_bounds(day - timedelta(days=lag_days), baseline_days)


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def drift_rows(day: date, mix_now: pl.DataFrame, mix_base: pl.DataFrame, cells_now: pl.DataFrame, cells_base: pl.DataFrame,
               threshold: float, bounds: tuple[date, date]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One path_drift row per path seen on `day`, and the long per-scorer rows."""
    rows, long_rows = [], []
    for path in mix_now["routing_path"].unique().sort().to_list():
        now = dict(mix_now.filter(pl.col("routing_path") == path).select("task_type", "n").iter_rows())
        base = dict(mix_base.filter(pl.col("routing_path") == path).select("task_type", "n").iter_rows())
        divergence = js_divergence(now, base) if base else None
        effects: dict[str, dict] = {}
        for scorer in cells_now.filter(pl.col("routing_path") == path)["scorer"].unique().sort().to_list():
            pick = (pl.col("routing_path") == path) & (pl.col("scorer") == scorer)
            c_now, c_base = cells_now.filter(pick), cells_base.filter(pick)
            split = decompose(c_base, c_now)
            split = {k: _finite(v) for k, v in split.items()}
            effects[scorer] = split
            long_rows.append({
                "day": day, "routing_path": path, "scorer": scorer, "n": int(c_now["n"].sum()), "pass_rate": split["current_rate"],
                "baseline_n": int(c_base["n"].sum()), "baseline_pass_rate": split["baseline_rate"], "total_change": split["total"],
                "mix_effect": split["mix_effect"], "quality_effect": split["quality_effect"],
            })
        stale = divergence is not None and divergence >= threshold
        rows.append({
            "day": day, "routing_path": path, "requests": sum(now.values()), "baseline_start": bounds[0], "baseline_end": bounds[1],
            "task_mix": json.dumps(now), "baseline_task_mix": json.dumps(base), "mix_divergence": divergence, "stale": stale,
            "pass_rate": json.dumps({s: e["current_rate"] for s, e in effects.items()}),
            "baseline_pass_rate": json.dumps({s: e["baseline_rate"] for s, e in effects.items()}),
            "mix_effect": json.dumps({s: e["mix_effect"] for s, e in effects.items()}),
            "quality_effect": json.dumps({s: e["quality_effect"] for s, e in effects.items()}),
            "note": "no baseline traffic for this path" if not base else (f"mix diverged ({divergence:.3f} >= {threshold}): slice marked stale" if stale else None),
        })
    return pl.DataFrame(rows), pl.DataFrame(long_rows)


@dg.asset(
    deps=[dg.AssetDep("online_scores", partition_mapping=DRIFT_WINDOW), dg.AssetDep("log_records", partition_mapping=DRIFT_WINDOW)],
    partitions_def=daily,
    group_name="drift",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
    check_specs=[dg.AssetCheckSpec(DRIFT_CHECK, asset="path_drift", description="WARN when a path's query mix diverges from its baseline beyond drift.stale_divergence.")],
)
def path_drift(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Per path and day: the task-type mix and its Jensen-Shannon divergence from the baseline window,
    and each scorer's online pass-rate change split into a mix effect and a quality effect."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config.drift
    bounds = baseline_bounds(day, cfg.baseline_days, cfg.baseline_lag_days)
    with platform.warehouse() as conn:
        mix_now, mix_base = (conn.sql(_MIX_SQL, params=[a, b]).pl() for a, b in ((day, day), bounds))
        cells_now, cells_base = (conn.sql(_CELLS_SQL, params=[a, b]).pl() for a, b in ((day, day), bounds))
        rows, long_rows = drift_rows(day, mix_now, mix_base, cells_now, cells_base, cfg.stale_divergence, bounds)
        with transaction(conn):
            replace_rows(conn, "path_drift", rows if rows.height else None, "day = ?", [day], transaction=False)
            replace_rows(conn, "path_drift_scores", long_rows if long_rows.height else None, "day = ?", [day], transaction=False)
        history = conn.sql(
            """SELECT d.day, d.routing_path, d.mix_divergence, s.scorer, s.pass_rate FROM path_drift d
               LEFT JOIN path_drift_scores s USING (day, routing_path)
               WHERE d.day BETWEEN ? AND ? ORDER BY d.day""", params=[day - timedelta(days=CHART_DAYS - 1), day]
        ).pl()
    drifted = rows.filter(pl.col("stale")) if rows.height else rows
    return dg.MaterializeResult(
        metadata={
            "baseline": f"{bounds[0]} .. {bounds[1]}",
            "drift": dg.MetadataValue.md(markdown_preview(rows.select("routing_path", "requests", "mix_divergence", "stale", "mix_effect", "quality_effect") if rows.height else rows, rows=20)),
            "chart": dg.MetadataValue.json(drift_chart_spec(history)),
        },
        check_results=[dg.AssetCheckResult(
            check_name=DRIFT_CHECK, passed=drifted.is_empty(), severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(f"{r['routing_path']}: mix divergence {r['mix_divergence']:.3f}" for r in drifted.iter_rows(named=True)) or None,
        )],
    )


def _interval_columns(frame: pl.DataFrame, prefix: str, alpha: float) -> pl.DataFrame:
    bounds = [wilson_interval(p, n, alpha) for p, n in zip(frame["passes"], frame["n"], strict=True)]
    return frame.select(
        "routing_path", "scorer",
        pl.col("n").alias(f"{prefix}_n"), (pl.col("passes") / pl.col("n")).alias(f"{prefix}_pass_rate"),
        pl.Series(f"{prefix}_ci_low", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series(f"{prefix}_ci_high", [b[1] for b in bounds], dtype=pl.Float64),
    )


@dg.asset(
    deps=["eval_scores", "eval_candidates", dg.AssetDep("online_scores", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="drift",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
)
def offline_online_gaps(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Per path and scorer: the offline pass rate (the corpus slice on its serving models) against the
    online one (responses users got in the window), with intervals: where the eval set flatters the product."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    start, end = window_bounds(day, cfg.traffic.window_days)
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        offline = conn.sql(
            """SELECT s.routing_path, s.scorer, count(s.passed) AS n, count(*) FILTER (WHERE s.passed) AS passes
               FROM eval_scores s JOIN eval_candidates c ON c.corpus_version = s.corpus_version AND c.routing_path = s.routing_path AND c.model = s.model
               WHERE s.corpus_version = ? AND c.role = 'serving' GROUP BY ALL HAVING count(s.passed) > 0""", params=[version]).pl()
        online = conn.sql(
            """SELECT routing_path, scorer, count(passed) AS n, count(*) FILTER (WHERE passed) AS passes FROM online_scores
               WHERE day BETWEEN ? AND ? GROUP BY ALL HAVING count(passed) > 0""", params=[start, end]).pl()
        alpha = cfg.stats.alpha  # the same confidence as path_gaps' intervals
        table = _interval_columns(offline, "offline", alpha).join(
            _interval_columns(online, "online", alpha), on=["routing_path", "scorer"], how="full", coalesce=True)
        table = table.with_columns(window_end=pl.lit(day), difference=pl.col("offline_pass_rate") - pl.col("online_pass_rate"))
        replace_rows(conn, "offline_online_gaps", table, "window_end = ?", [day])
    return dg.MaterializeResult(metadata={"table": dg.MetadataValue.md(markdown_preview(table.drop("window_end").with_columns(pl.col(pl.Float64).round(3)), rows=60))})


@dg.asset(
    deps=["eval_scores", "eval_responses", dg.AssetDep("online_scores", partition_mapping=WINDOW), dg.AssetDep("log_records", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="drift",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
)
def routing_policy_eval(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """The window's traffic replayed through the production routing policy and each configured
    alternative: estimated pass rate per scorer with an interval, the bill, and what the estimate rests on."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    start, end = window_bounds(day, cfg.traffic.window_days)
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        records = conn.sql(
            """SELECT record_id, routing_path, served_model, route_reason, coalesce(task_type, '(none)') AS task_type, prompt
               FROM log_records WHERE day BETWEEN ? AND ? AND status = 'ok'""", params=[start, end]).pl()
        path_models = dict(conn.sql(
            """SELECT routing_path, arg_max(served_model, n) FROM (SELECT routing_path, served_model, count(*) AS n FROM log_records
               WHERE day BETWEEN ? AND ? GROUP BY ALL) GROUP BY routing_path""", params=[start, end]).fetchall())
        online = conn.sql(
            """SELECT served_model AS model, coalesce(task_type, '(none)') AS task_type, scorer, count(passed) AS n,
                      count(*) FILTER (WHERE passed) AS passes FROM online_scores WHERE day BETWEEN ? AND ? GROUP BY ALL""", params=[start, end]).pl()
        offline = conn.sql(
            """SELECT s.model, coalesce(c.task_type, '(none)') AS task_type, s.scorer, count(s.passed) AS n, count(*) FILTER (WHERE s.passed) AS passes
               FROM eval_scores s JOIN corpus_items c ON c.corpus_item_id = s.corpus_item_id AND c.corpus_version = s.corpus_version
               WHERE s.corpus_version = ? GROUP BY ALL""", params=[version]).pl()
        costs = conn.sql(
            """SELECT model, task_type, avg(cost) AS cost_per_request FROM (
                 SELECT served_model AS model, coalesce(task_type, '(none)') AS task_type, cost_usd AS cost FROM log_records
                 WHERE day BETWEEN ? AND ? AND cost_usd IS NOT NULL
                 UNION ALL
                 SELECT r.model, coalesce(c.task_type, '(none)'), r.cost_usd FROM eval_responses r
                 JOIN corpus_items c ON c.corpus_item_id = r.corpus_item_id AND c.corpus_version = r.corpus_version
                 WHERE r.corpus_version = ? AND r.cost_usd IS NOT NULL AND r.status = 'ok')
               GROUP BY ALL""", params=[start, end, version]).pl()
        known = set(path_models.values()) | set(online["model"]) | set(offline["model"])
        policies = {"production": cfg.policies.production, **cfg.policies.alternatives}
        results = []
        for name, spec in policies.items():
            assigned = assign_models(records, name, load_policy(name, spec), path_models, known)
            est = estimate(assigned, online, offline, costs, min_online_n=cfg.policies.min_online_n, alpha=cfg.stats.alpha)
            results.append(est.with_columns(policy=pl.lit(name)))
        table = pl.concat(results).with_columns(window_end=pl.lit(day)) if results else None
        replace_rows(conn, "routing_policy_eval", table, "window_end = ?", [day])
    return dg.MaterializeResult(metadata={
        "policies": ", ".join(policies),
        "estimates": dg.MetadataValue.md(markdown_preview(table.select("policy", "scorer", "requests", "pass_rate", "ci_low", "ci_high", "cost_usd").with_columns(pl.col(pl.Float64).round(4)), rows=60) if table is not None else "none"),
    })
