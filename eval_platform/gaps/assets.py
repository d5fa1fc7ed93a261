"""Gap assets: how much worse each routing path is than the rest, on the same scorer, with intervals."""


from datetime import date

import dagster as dg
import polars as pl

from eval_platform.evals.assets import corpus_version_for
from eval_platform.gaps import tables
from eval_platform.partitions import WINDOW, daily
from eval_platform.publish.charts import gap_chart_spec
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.sessions.build import window_bounds
from eval_platform.warehouse import replace_rows

GAPS_CHECK = "no_flagged_gap"

_OFFLINE_SQL = """
SELECT s.routing_path, s.scorer, s.passed, s.model
FROM eval_scores s JOIN eval_candidates c
  ON c.corpus_version = s.corpus_version AND c.routing_path = s.routing_path AND c.model = s.model
WHERE s.corpus_version = ? AND c.role = 'serving'
"""
_ONLINE_SQL = "SELECT routing_path, scorer, passed, served_model AS model FROM online_scores WHERE day BETWEEN ? AND ?"
# failing examples of one flagged gap, drawn from exactly the rows that gap was computed on: offline, this
# corpus version's serving models of the path; online, the window's scored responses
_EXAMPLES_SQL = """
SELECT source, routing_path, scorer, model, record_id, source_file, source_line, explanation
FROM failure_lineage
WHERE routing_path = $path AND scorer = $scorer AND source = $source
  AND (source = 'online' OR (corpus_version = $version AND model IN (
        SELECT model FROM eval_candidates WHERE corpus_version = $version AND routing_path = $path AND role = 'serving')))
  AND (source = 'offline' OR record_id IN (
        SELECT record_id FROM online_scores WHERE day BETWEEN $start AND $end AND routing_path = $path AND scorer = $scorer))
ORDER BY source_file, source_line
LIMIT 3
"""


def _flag_text(row: dict) -> str:
    return (
        f"{row['routing_path']} on {row['scorer']} ({row['source']}): pass rate {row['pass_rate']:.2f} vs "
        f"{row['rest_pass_rate']:.2f} on the rest, gap {row['gap']:+.2f} [{row['gap_ci_low']:+.2f}, {row['gap_ci_high']:+.2f}], q={row['q_value']:.3g}"
    )


@dg.asset(
    deps=["eval_scores", "eval_candidates", "routing_traffic", dg.AssetDep("online_scores", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="gaps",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
    check_specs=[dg.AssetCheckSpec(GAPS_CHECK, asset="path_gaps", description="WARN when a path is significantly worse than the rest on a scorer; names the path, scorer, gap, interval and failing examples with their source lines.")],
)
def path_gaps(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Per routing path and scorer, offline (its corpus slice, serving models) and online (served
    responses in the window): pass rate with a Wilson interval against the rest of the paths, the gap with
    its interval, an exact test, Benjamini-Hochberg q-values, the flag, and the gap 30 items could detect."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    start, end = window_bounds(day, cfg.traffic.window_days)
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        offline = conn.sql(_OFFLINE_SQL, params=[version]).pl()
        online = conn.sql(_ONLINE_SQL, params=[start, end]).pl()
        traffic = conn.sql("SELECT routing_path, meaningful FROM routing_traffic WHERE window_end = ?", params=[day]).pl()
        meaningful = traffic.filter(pl.col("meaningful"))["routing_path"].to_list()
        gaps = pl.concat([
            tables.path_gaps(offline, source="offline", window_end=day, alpha=cfg.stats.alpha, min_gap=cfg.stats.min_gap,
                             meaningful_paths=meaningful, all_paths=traffic["routing_path"].to_list()),
            tables.path_gaps(online, source="online", window_end=day, alpha=cfg.stats.alpha, min_gap=cfg.stats.min_gap,
                             meaningful_paths=None, all_paths=traffic["routing_path"].to_list()),
        ], how="diagonal_relaxed")
        replace_rows(conn, "path_gaps", gaps, "window_end = ?", [day])
        flagged = gaps.filter(pl.col("flagged").fill_null(False))
        examples = [
            conn.sql(_EXAMPLES_SQL, params={"path": r["routing_path"], "scorer": r["scorer"], "source": r["source"],
                                            "version": version, "start": start, "end": end}).pl()
            for r in flagged.iter_rows(named=True)
        ]
    view = gaps.select("source", "routing_path", "scorer", "n", "pass_rate", "rest_pass_rate", "gap", "q_value", "flagged", "min_detectable_gap", "note")
    texts = [_flag_text(r) for r in flagged.iter_rows(named=True)]
    example_md = "\n\n".join(markdown_preview(e) for e in examples if e.height)
    return dg.MaterializeResult(
        metadata={
            "corpus_version": version,
            "flagged": len(texts),
            "gap_table": dg.MetadataValue.md(markdown_preview(view.with_columns(pl.col(pl.Float64).round(3)), rows=100)),
            "gap_chart": dg.MetadataValue.json(gap_chart_spec(gaps)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=GAPS_CHECK, passed=not texts, severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(texts)[:2000] or None,
                metadata={"flagged_gaps": dg.MetadataValue.md("\n".join(f"- {t}" for t in texts) or "none"),
                          "failing_examples": dg.MetadataValue.md(example_md or "none")},
            )
        ],
    )


@dg.asset(
    deps=["eval_scores", "eval_responses", "eval_candidates"],
    partitions_def=daily,
    group_name="gaps",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
)
def model_matrix(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Each slice x each candidate model x each scorer: pass rate with interval, errors, cost, and the
    paired difference against the path's serving model (exact McNemar on the shared items)."""
    day = date.fromisoformat(context.partition_key)
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        scores = conn.sql(
            """SELECT s.corpus_item_id, s.routing_path, s.model, s.scorer, s.passed, r.status, r.cost_usd
               FROM eval_scores s JOIN eval_responses r USING (response_id) WHERE s.corpus_version = ?""",
            params=[version],
        ).pl()
        candidates = conn.sql("SELECT routing_path, model, role, share_of_path FROM eval_candidates WHERE corpus_version = ?", params=[version]).pl()
        matrix = tables.model_matrix(scores, candidates, corpus_version=version)
        replace_rows(conn, "model_matrix", matrix, "corpus_version = ?", [version])
    return dg.MaterializeResult(
        metadata={"corpus_version": version, "matrix": dg.MetadataValue.md(markdown_preview(matrix.drop("corpus_version").with_columns(pl.col(pl.Float64).round(3)), rows=120))}
    )
