"""Session and traffic assets: who gave up, who escalated, and each routing path's share of traffic."""


from datetime import date

import dagster as dg
import polars as pl

from eval_platform.labels import read_expert_flags
from eval_platform.partitions import WINDOW, daily
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.sessions.build import compute_traffic, rebuild_sessions
from eval_platform.warehouse import replace_rows

SHARES_CHECK = "shares_sum_to_one"


@dg.asset(
    deps=[dg.AssetDep("log_records", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="sessions",
    kinds={"duckdb"},
    owners=["team:evals"],
    pool="warehouse",
)
def sessions(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """One row per session with a record in the window ending on the partition day: turns, paths,
    outcome (resolved / abandoned / escalated) and expert flags from labels/expert_flags.csv."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    flags = read_expert_flags(platform.data.labels)
    with platform.warehouse() as conn:
        n = rebuild_sessions(conn, flags, day, cfg.traffic.window_days)
        outcomes = conn.sql(
            "SELECT outcome, count(*) AS sessions, count(*) FILTER (WHERE expert_flagged) AS expert_flagged "
            "FROM sessions WHERE last_ts >= ?::DATE - INTERVAL (? - 1) DAY GROUP BY 1 ORDER BY 2 DESC",
            params=[day, cfg.traffic.window_days],
        ).pl()
    return dg.MaterializeResult(
        metadata={"sessions_rebuilt": n, "outcomes": dg.MetadataValue.md(markdown_preview(outcomes)), "expert_flags": flags.height}
    )


@dg.asset(
    deps=["sessions", dg.AssetDep("log_records", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="sessions",
    kinds={"duckdb"},
    owners=["team:evals"],
    pool="warehouse",
    check_specs=[dg.AssetCheckSpec(SHARES_CHECK, asset="routing_traffic", description="The window's path shares sum to 1.")],
)
def routing_traffic(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Each routing path's share of requests over the 7-day window ending on the partition day, with
    abandoned / escalated / flagged sessions; paths under the meaningful-traffic threshold get no slice."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config.traffic
    with platform.warehouse() as conn:
        traffic = compute_traffic(conn, day, cfg.window_days, cfg.meaningful_share)
        replace_rows(conn, "routing_traffic", traffic, "window_end = ?", [day])
    total = float(traffic["share"].sum()) if traffic.height else 0.0
    return dg.MaterializeResult(
        metadata={
            "paths": traffic.height,
            "requests": int(traffic["requests"].sum()) if traffic.height else 0,
            "traffic": dg.MetadataValue.md(markdown_preview(traffic.with_columns(pl.col("share").round(4)))),
            "paths_without_slice": ", ".join(traffic.filter(~pl.col("meaningful"))["routing_path"].to_list()) or "none",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=SHARES_CHECK,
                passed=traffic.is_empty() or abs(total - 1.0) < 1e-9,
                metadata={"sum_of_shares": total},
            )
        ],
    )
