"""The partition's one write transaction, shared by the `ingest_logs` asset and the ingest benchmark."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from eval_platform.ingest.dedupe import drop_repeats
from eval_platform.ingest.spill import PartitionRows
from eval_platform.warehouse import replace_rows, transaction

FILE_WHERE = "source_file IN (SELECT unnest(?::VARCHAR[]))"


def write_partition(conn: duckdb.DuckDBPyConnection, day: date, gone: list[str], stats: list[dict],
                    rows: PartitionRows, run_id: str, now: datetime) -> dict[str, int]:
    """In one transaction: drop the rows of the files in `gone`, replace those of the files read (one `stats`
    row each, their rows in `rows`), keep each record_id once (`drop_repeats`, with `stats` adjusted to
    match). Returns {source_file: lines quarantined as repeats}."""
    names = [s["source_file"] for s in stats]
    moved: dict[str, int] = {}
    with transaction(conn):
        for table in ("log_records", "log_quarantine", "ingest_files"):
            replace_rows(conn, table, None, FILE_WHERE, [gone], transaction=False)
        if not stats:
            return moved
        for table in ("log_records", "log_quarantine"):
            replace_rows(conn, table, rows.rows(conn, table), FILE_WHERE, [names], transaction=False)
        # a record another file already holds (an exporter's retry, a re-export) is kept once
        moved = drop_repeats(conn, names)
        for row in stats:
            row["records"] -= moved.get(row["source_file"], 0)
            row["quarantined"] += moved.get(row["source_file"], 0)
        stat_frame = pl.DataFrame(stats).with_columns(day=pl.lit(day), ingest_run_id=pl.lit(run_id),
                                                      ingested_at=pl.lit(now))
        replace_rows(conn, "ingest_files", stat_frame, FILE_WHERE, [names], transaction=False)
    return moved
