"""One row per record_id across files: a record logged again in another file is dropped, with the reason.

`record_id` is the key of `log_records`, but the same call can reach landing/ twice: an OTLP exporter
retrying a batch, a gateway re-exporting a day, overlapping log rotations. Within one file `ingest_file`
already keeps the first copy. Across files, inside the partition's write transaction, `drop_repeats` keeps
the copy that was in the warehouse first (rows of files not being written now win, so a run never touches
another partition's rows), else the first by (source_file, source_line), and deletes the others. A line
left with no record becomes a quarantine row naming the first copy, so `lines = records + quarantined +
skipped` still holds and nothing is silently dropped.
"""

from __future__ import annotations

import duckdb
import polars as pl

from eval_platform.ingest.redact import redact_frame

_NEW = "source_file IN (SELECT unnest($names::VARCHAR[]))"

_REPEATS_SQL = f"""
WITH repeated AS (  -- ids of the new rows that occur more than once in the whole table (a hash aggregate)
    SELECT record_id FROM log_records
    WHERE record_id IN (SELECT record_id FROM log_records WHERE {_NEW})
    GROUP BY record_id HAVING count(*) > 1
),
ranked AS (
    SELECT r.record_id, r.source_file, r.source_line, r.day, r.source_format, r.content_hash, r.ingest_run_id,
           r.{_NEW} AS is_new,
           row_number() OVER w AS copy, first_value(r.source_file) OVER w AS first_file,
           first_value(r.source_line) OVER w AS first_line
    FROM log_records r SEMI JOIN repeated USING (record_id)
    WINDOW w AS (PARTITION BY r.record_id ORDER BY r.{_NEW}, r.source_file, r.source_line)
)
SELECT * EXCLUDE (copy, is_new) FROM ranked WHERE copy > 1 AND is_new
"""


def drop_repeats(conn: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, int]:
    """Delete the rows of files `names` (just written, in the caller's transaction) whose record_id another
    row holds first; quarantine the lines left without a record. Returns {source_file: lines quarantined}."""
    repeats = conn.sql(_REPEATS_SQL, params={"names": names}).pl()
    if repeats.is_empty():
        return {}
    conn.register("_repeats", repeats.select("record_id", "source_file", "source_line").to_arrow())
    try:
        conn.execute("""DELETE FROM log_records USING _repeats d WHERE log_records.record_id = d.record_id
                        AND log_records.source_file = d.source_file AND log_records.source_line = d.source_line""")
        emptied = conn.sql(
            """SELECT DISTINCT d.source_file, d.source_line FROM _repeats d WHERE NOT EXISTS (
                   SELECT 1 FROM log_records r WHERE r.source_file = d.source_file AND r.source_line = d.source_line)"""
        ).pl()
    finally:
        conn.unregister("_repeats")
    lines = (
        repeats.join(emptied, on=["source_file", "source_line"], how="semi")
        .sort("source_file", "source_line", "record_id")
        .group_by("source_file", "source_line", maintain_order=True)
        .agg(pl.all().first())
    )
    quarantine = lines.select(
        "source_file", "source_line", "day", pl.lit(None, pl.String).alias("raw"),
        pl.format("line {}: field 'record_id': duplicate of '{}' first seen in {} line {}",
                  "source_line", "record_id", "first_file", "first_line").alias("error"),
        "source_format", "content_hash", "ingest_run_id",
    )
    quarantine = redact_frame(quarantine, ("error",))
    conn.register("_repeat_lines", quarantine.to_arrow())
    try:
        conn.execute("INSERT INTO log_quarantine BY NAME SELECT * FROM _repeat_lines")
    finally:
        conn.unregister("_repeat_lines")
    counts = quarantine.group_by("source_file").len()
    return dict(counts.iter_rows())
