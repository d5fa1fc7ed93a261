"""Ingestion assets: landing files -> ingest_files, log_records, log_quarantine (daily partitions)."""


import hashlib
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from eval_platform.config import PlatformConfig
from eval_platform.ingest.file_ingest import file_sha256, ingest_file
from eval_platform.ingest.landing import files_by_day
from eval_platform.ingest.schemas import RecordSchemaError, validate_records
from eval_platform.ingest.spill import PartitionRows, remove_stale
from eval_platform.ingest.write import FILE_WHERE, write_partition
from eval_platform.partitions import daily
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.warehouse import scalar

ACCOUNTING_CHECK = "every_line_accounted_for"
QUARANTINE_RATE_CHECK = "quarantine_rate_below_threshold"
SCHEMA_CHECK = "log_records_schema"



# Bump when an adapter maps the same line differently, so files ingested before are read again once
# (4: LiteLLM served model from the response, SDK-callback paths, tool-call keys; OTel ids as hex, sessions
# resolved per trace across the file).
ADAPTERS_VERSION = 4


def ingest_settings(config: PlatformConfig, source_file: str) -> str:
    """A fingerprint of what ingesting `source_file` depends on besides its bytes (its format, the line
    limit, the outcome rules, the adapters' version): changing any of them re-ingests the file on the next
    run, so a warehouse never mixes rows mapped by two versions of an adapter."""
    relevant = {"format": config.format_for(source_file), "max_line_bytes": config.ingest.max_line_bytes,
                "outcome_rules": config.outcome_rules.model_dump(mode="json"), "adapters": ADAPTERS_VERSION}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]

_ACCOUNTING_SQL = f"""
SELECT f.source_file, f.format, f.lines, coalesce(r.lines, 0) AS records, coalesce(q.lines, 0) AS quarantined, f.skipped,
       f.records AS reported_records, f.quarantined AS reported_quarantined
FROM ingest_files f
LEFT JOIN (SELECT source_file, count(DISTINCT source_line) AS lines FROM log_records WHERE {FILE_WHERE} GROUP BY 1) r
    USING (source_file)
LEFT JOIN (SELECT source_file, count(DISTINCT source_line) AS lines FROM log_quarantine WHERE {FILE_WHERE} GROUP BY 1) q
    USING (source_file)
WHERE {FILE_WHERE.replace("source_file", "f.source_file")}
ORDER BY f.source_file
"""


_DEPENDENT_SQL = """
SELECT DISTINCT q.source_file FROM log_quarantine q, unnest(?::VARCHAR[]) AS t(first_file)
WHERE contains(q.error, ' first seen in ' || t.first_file || ' line ') ORDER BY 1
"""


@dg.multi_asset(
    specs=[
        dg.AssetSpec("ingest_files", kinds={"duckdb"}, group_name="ingest", owners=["team:evals"],
                     description="One row per landing file ingested: format, line accounting, run."),
        dg.AssetSpec("log_records", kinds={"duckdb", "polars"}, group_name="ingest", owners=["team:evals"],
                     description="Validated, redacted model calls with lineage to file and line."),
        dg.AssetSpec("log_quarantine", kinds={"duckdb"}, group_name="ingest", owners=["team:evals"],
                     description="Every line that could not be ingested, redacted, with the reason."),
    ],
    check_specs=[
        dg.AssetCheckSpec(ACCOUNTING_CHECK, asset="ingest_files", blocking=True,
                          description="For every file: lines = records + quarantined + skipped."),
        dg.AssetCheckSpec(QUARANTINE_RATE_CHECK, asset="log_quarantine",
                          description="Share of quarantined lines per file stays under ingest.quarantine_warn_rate."),
        dg.AssetCheckSpec(SCHEMA_CHECK, asset="log_records", blocking=True,
                          description="log_records passes its pandera schema (rows that fail go to quarantine)."),
    ],
    partitions_def=daily,
    pool="warehouse",
)
def ingest_logs(context: dg.AssetExecutionContext, platform: Platform):
    """Read the day's landing files, validate and redact them, and replace their rows in the warehouse.

    A file already ingested with the same content hash is left as it is; a file whose content changed
    replaces its old rows. Landing files are only read, never modified.
    """
    day = date.fromisoformat(context.partition_key)
    landing, config = platform.data.landing, platform.config
    by_day = files_by_day(landing)
    files = by_day.get(day, [])
    day_files = [p.relative_to(landing).as_posix() for p in files]
    with platform.warehouse() as conn:
        known = {f: (h, s) for f, h, s in conn.execute("SELECT source_file, content_hash, settings FROM ingest_files").fetchall()}
        # files this partition ingested before that are no longer in landing/ (deleted, or renamed: a renamed
        # copy would otherwise hold the same records twice); never when landing/ itself is empty or missing
        gone = [f for (f,) in conn.execute("SELECT source_file FROM ingest_files WHERE day = ? ORDER BY 1", [day]).fetchall()
                if f not in day_files] if by_day else []
    if gone:
        context.log.warning(f"{day}: {len(gone)} file(s) no longer in landing/, their rows are removed: {gone[:10]}")
    # only a file ingested before needs its hash up front; a new one is hashed while ingest_file reads it
    hashes = {p: file_sha256(p) for p in files if p.relative_to(landing).as_posix() in known}
    # a file is read again when its bytes changed, or the settings its ingestion depends on did
    changed = [p for p in files if p not in hashes
               or known[name := p.relative_to(landing).as_posix()] != (hashes[p], ingest_settings(config, name))]
    # ... or when it repeated records of a file now gone or changed: the repeat may be the only copy left
    firsts = gone + [n for p in changed if (n := p.relative_to(landing).as_posix()) in known]
    if firsts:
        with platform.warehouse() as conn:
            dependents = [f for (f,) in conn.execute(_DEPENDENT_SQL, [firsts]).fetchall()]
        again = [p for p in files if p not in changed and p.relative_to(landing).as_posix() in dependents]
        elsewhere = sorted(set(dependents) - set(day_files) - set(gone))
        if elsewhere:
            context.log.warning(f"{day}: file(s) of other days quarantined records as repeats of this day's changed "
                                f"or removed files; re-ingest their partitions: {elsewhere[:10]}")
        changed += again
    context.log.info(f"{day}: {len(files)} landing file(s), {len(changed)} new, changed or to read again")

    stats, schema_problems, rejected_total = [], [], 0
    platform.data.tmp.mkdir(parents=True, exist_ok=True)
    if stale := remove_stale(platform.data.tmp, "ingest-"):
        context.log.warning(f"removed {len(stale)} spill folder(s) left by killed runs: {[p.name for p in stale]}")
    with tempfile.TemporaryDirectory(prefix=f"ingest-{day}-", dir=platform.data.tmp) as spill_dir:
        rows = PartitionRows(Path(spill_dir), config.ingest.spill_bytes)
        for number, path in enumerate(changed, start=1):
            if rows.make_room():
                context.log.info(f"{day}: {rows.spilled_bytes / 2**20:,.0f} MiB of rows spilled to Parquet "
                                 f"(ingest.spill_bytes {config.ingest.spill_bytes:,})")
            result = ingest_file(path, landing, config, content_hash=hashes.get(path))
            try:
                good, rejected = validate_records(result.records)
            except RecordSchemaError as exc:
                schema_problems.append(f"{result.stats['source_file']}: {exc}")
                continue
            rejected_total += rejected.height
            run = pl.lit(context.run_id).alias("ingest_run_id")
            rows.add("log_records", good.with_columns(run))
            rows.add("log_quarantine", pl.concat([result.quarantine, rejected], how="diagonal_relaxed").with_columns(run))
            row = dict(result.stats, settings=ingest_settings(config, result.stats["source_file"]))
            row["records"] -= rejected.height
            row["quarantined"] += rejected.height
            stats.append(row)
            context.log.info(
                f"[{number}/{len(changed)}] {row['source_file']}: {row['lines']} lines, {row['records']} records, "
                f"{row['quarantined']} quarantined, {row['skipped']} skipped ({row['format']})"
            )
        with platform.warehouse() as conn:
            moved = write_partition(conn, day, gone, [] if schema_problems else stats, rows, context.run_id,
                                    datetime.now(UTC).replace(tzinfo=None))
        if moved:
            context.log.warning(f"{day}: {sum(moved.values())} line(s) only repeated records other files hold "
                                f"first; quarantined as duplicates: {dict(list(moved.items())[:10])}")

    with platform.warehouse() as conn:
        # the accounting as written: lines of each file found in the tables, not the counts ingestion reported
        accounting = conn.sql(_ACCOUNTING_SQL, params=[day_files] * 3).pl()
        top_errors = conn.sql(
            "SELECT regexp_replace(error, '^line \\d+: ', '') AS error, count(*) AS lines FROM log_quarantine "
            f"WHERE {FILE_WHERE} GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
            params=[day_files],
        ).pl()
        n_records = scalar(conn, f"SELECT count(*) FROM log_records WHERE {FILE_WHERE}", [day_files])

    unbalanced = accounting.filter(
        (pl.col("lines") != pl.col("records") + pl.col("quarantined") + pl.col("skipped"))
        | (pl.col("records") != pl.col("reported_records")) | (pl.col("quarantined") != pl.col("reported_quarantined"))
    )
    rates = accounting.with_columns(rate=pl.col("quarantined") / pl.max_horizontal(pl.col("lines"), 1))
    too_many = rates.filter(pl.col("rate") > config.ingest.quarantine_warn_rate)
    accounting = accounting.drop("reported_records", "reported_quarantined")
    totals = accounting.select(pl.col("lines", "records", "quarantined", "skipped").sum()).row(0, named=True) if accounting.height else {}

    yield dg.MaterializeResult(
        asset_key="ingest_files",
        metadata={"files": dg.MetadataValue.md(markdown_preview(accounting, rows=50)), "dagster/row_count": accounting.height, **{k: int(v or 0) for k, v in totals.items()}},
    )
    yield dg.MaterializeResult(
        asset_key="log_records",
        metadata={"dagster/partition_row_count": int(n_records), "files": len(files)},
    )
    yield dg.MaterializeResult(
        asset_key="log_quarantine",
        metadata={"quarantined": int(totals.get("quarantined") or 0), "top_errors": dg.MetadataValue.md(markdown_preview(top_errors))},
    )
    yield dg.AssetCheckResult(
        check_name=ACCOUNTING_CHECK, asset_key="ingest_files", passed=unbalanced.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"unbalanced_files": dg.MetadataValue.md(markdown_preview(unbalanced)) if unbalanced.height else "none"},
    )
    yield dg.AssetCheckResult(
        check_name=QUARANTINE_RATE_CHECK, asset_key="log_quarantine", passed=too_many.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"threshold": config.ingest.quarantine_warn_rate,
                  "files_over": dg.MetadataValue.md(markdown_preview(too_many)) if too_many.height else "none"},
    )
    yield dg.AssetCheckResult(
        check_name=SCHEMA_CHECK, asset_key="log_records", passed=not schema_problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(schema_problems)[:2000] or None,
        metadata={"rows_rejected_by_schema": rejected_total, "files_not_written": len(schema_problems)},
    )
