"""The warehouse as Parquet partitions: past one DuckDB file (DESIGN section 11).

One `.duckdb` file means one writer and one machine. The next step keeps DuckDB as the engine and makes
the storage files: every table under `<out_dir>/<table>/`, tables with a `day` column split by day in
the hive layout (`day=2026-11-16/data_0.parquet`). Per table, DuckDB writes it with

    COPY log_records TO 'warehouse_parquet/log_records' (FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)

and anyone reads it back, with partition pruning on `day`, with

    SELECT routing_path, count(*) FROM read_parquet('warehouse_parquet/log_records/*/*.parquet', hive_partitioning = true)
    WHERE day BETWEEN DATE '2026-11-23' AND DATE '2026-11-29' GROUP BY ALL

The same statements work on object storage (`s3://bucket/eval/log_records/*/*.parquet` with the httpfs
extension) and in MotherDuck, so daily runs on different machines can each write their own partition
directory and analysts query all of it without any lock. Tables without `day` (corpus_items,
eval_responses, ...) are one directory with one file; read them with `read_parquet('<dir>/*.parquet')`.
A table with no rows is written as one empty file with the table's schema, so every glob above matches.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from eval_platform.warehouse import checked_identifier, connect

_TABLES_SQL = """
SELECT t.table_name, bool_or(c.column_name = 'day') AS has_day
FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name)
WHERE t.table_schema = 'main' AND t.table_type = 'BASE TABLE' GROUP BY ALL ORDER BY 1
"""


def export_parquet(warehouse: Path, out_dir: Path) -> dict[str, int]:
    """Write every warehouse table as Parquet under `out_dir/<table>/` (day tables partitioned by day);
    return the rows written per table. Built beside `out_dir` and swapped in, owner-only."""
    out_dir = Path(out_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging = out_dir.with_name(f".{out_dir.name}.{stamp}.tmp")
    staging.mkdir(parents=True, mode=0o700)
    rows: dict[str, int] = {}
    try:
        with connect(Path(warehouse), read_only=True) as conn:
            for name, has_day in conn.execute(_TABLES_SQL).fetchall():
                table = checked_identifier(name)  # from the catalog, checked before it goes into SQL
                rows[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                target = staging / table
                if has_day and rows[table]:
                    conn.execute(f"COPY {table} TO ? (FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)", [str(target)])
                else:
                    target.mkdir()
                    conn.execute(f"COPY {table} TO ? (FORMAT parquet)", [str(target / "data_0.parquet")])
        old = out_dir.with_name(f".{out_dir.name}.{stamp}.old")
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return rows
