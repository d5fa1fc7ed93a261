"""The adversarial corpus asset: one slice per meaningful routing path, built from real failures."""


import json
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from eval_platform.corpus.select import WarehouseWindow, build_corpus
from eval_platform.ingest.redact import redact_expr
from eval_platform.labels import read_expert_flags, read_golden, read_overrides
from eval_platform.partitions import WINDOW, daily
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.sessions.build import window_bounds
from eval_platform.warehouse import replace_rows, transaction

MIN_ITEMS_CHECK = "slices_have_min_items"
NO_PII_CHECK = "no_pii_in_corpus"
SOURCES_EXIST_CHECK = "source_records_exist"

_PREVIOUS_SQL = """
SELECT c.* FROM corpus_items c WHERE c.corpus_version = (
    SELECT corpus_version FROM corpus_versions WHERE window_end < ? ORDER BY window_end DESC, created_at DESC LIMIT 1)
"""


def stale_paths_for(conn, window_end: date) -> tuple[set[str], set[str]]:
    """(paths whose mix is past the drift threshold on the window's last day, those newly so).

    Only a newly stale path is resampled: a path that stays drifted keeps the slice drawn from its new mix
    instead of being redrawn every night.
    """
    stale = {r[0] for r in conn.execute("SELECT routing_path FROM path_drift WHERE day = ? AND stale", [window_end]).fetchall()}
    before = conn.execute(
        "SELECT stale_paths FROM corpus_versions WHERE window_end < ? ORDER BY window_end DESC, created_at DESC LIMIT 1", [window_end]
    ).fetchall()
    return stale, stale - set(before[0][0] if before else [])


@dg.asset(
    deps=["routing_traffic", "sessions", "path_drift", dg.AssetDep("log_records", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="corpus",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(MIN_ITEMS_CHECK, asset="corpus_items", description="Every meaningful path has at least corpus.min_items_warn items."),
        dg.AssetCheckSpec(NO_PII_CHECK, asset="corpus_items", blocking=True, description="No PII pattern survives in corpus text."),
        dg.AssetCheckSpec(SOURCES_EXIST_CHECK, asset="corpus_items", blocking=True, description="Every source record id exists in log_records."),
    ],
)
def corpus_items(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """The adversarial corpus for the window ending on the partition day: up to N items per meaningful
    routing path from sessions users abandoned or escalated or experts flagged (plus golden items), sticky
    across versions. Each version is kept; the `corpus_latest` view shows the newest."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    start, end = window_bounds(day, cfg.traffic.window_days)
    with platform.warehouse() as conn:
        traffic = conn.sql("SELECT * FROM routing_traffic WHERE window_end = ?", params=[day]).pl()
        previous = conn.sql(_PREVIOUS_SQL, params=[day]).pl()
        stale, newly_stale = stale_paths_for(conn, day)
        # eligibility runs inside DuckDB; only the eligible pool reaches polars
        build = build_corpus(
            WarehouseWindow(conn, start, end), None, traffic,
            expert_flags=read_expert_flags(platform.data.labels),
            golden=read_golden(platform.data.golden),
            overrides=read_overrides(platform.data.labels),
            previous=previous, stale_paths=newly_stale, cfg=cfg.corpus, window_end=day,
            meaningful_share=cfg.traffic.meaningful_share,
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    items = build.items.with_columns(created_at=pl.lit(now), window_end=pl.lit(day))
    version_row = pl.DataFrame({
        "corpus_version": [build.version], "window_end": [day], "created_at": [now], "items": [items.height],
        "stale_paths": [sorted(stale)], "slices": [json.dumps(build.report.to_dicts(), default=str)],
    })
    with platform.warehouse() as conn:
        with transaction(conn):
            replace_rows(conn, "corpus_items", items, "corpus_version = ?", [build.version], transaction=False)
            replace_rows(conn, "corpus_versions", version_row, "corpus_version = ?", [build.version], transaction=False)
        missing_sources = conn.sql(
            """SELECT c.corpus_item_id, s.source_record_id FROM corpus_items c, unnest(c.source_record_ids) AS s(source_record_id)
               WHERE c.corpus_version = ? AND c.reason <> 'golden'
                 -- NOT EXISTS is NULL-safe: one NULL record_id would make NOT IN pass every item
                 AND NOT EXISTS (SELECT 1 FROM log_records l WHERE l.record_id = s.source_record_id)""",
            params=[build.version],
        ).pl()
        preview = conn.sql(
            """SELECT c.routing_path, c.reason, c.task_type, c.prompt, r.source_file, r.source_line
               FROM corpus_items c LEFT JOIN log_records r ON r.record_id = c.record_id
               WHERE c.corpus_version = ? ORDER BY c.routing_path, c.corpus_item_id LIMIT 8""",
            params=[build.version],
        ).pl()

    leaks = items.filter(
        (pl.col("prompt") != redact_expr("prompt")) | (pl.col("messages") != redact_expr("messages"))
    ).select("corpus_item_id", "routing_path")
    meaningful = build.report.filter(pl.col("meaningful"))
    short = meaningful.filter(pl.col("selected") < cfg.corpus.min_items_warn)
    counts = items.group_by("routing_path", "reason", "task_type").len().sort("routing_path", "reason", "task_type")
    return dg.MaterializeResult(
        metadata={
            "corpus_version": build.version,
            "dagster/row_count": items.height,
            "slices": dg.MetadataValue.md(markdown_preview(build.report, rows=50)),
            "counts_by_reason_and_task": dg.MetadataValue.md(markdown_preview(counts, rows=60)),
            "preview": dg.MetadataValue.md(markdown_preview(preview, limit=100)),
            "stale_paths_resampled": ", ".join(sorted(newly_stale)) or "none",
            "stale_paths": ", ".join(sorted(stale)) or "none",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=MIN_ITEMS_CHECK, passed=short.is_empty(), severity=dg.AssetCheckSeverity.WARN,
                metadata={"short_slices": dg.MetadataValue.md(markdown_preview(short.select("routing_path", "eligible", "selected"))) if short.height else "none"},
            ),
            dg.AssetCheckResult(
                check_name=NO_PII_CHECK, passed=leaks.is_empty(), severity=dg.AssetCheckSeverity.ERROR,
                metadata={"items_with_pii": leaks.height},
            ),
            dg.AssetCheckResult(
                check_name=SOURCES_EXIST_CHECK, passed=missing_sources.is_empty(), severity=dg.AssetCheckSeverity.ERROR,
                metadata={"missing_source_records": missing_sources.height},
            ),
        ],
    )
