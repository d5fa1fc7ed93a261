"""A partition's rows spilled to Parquet when over `ingest.spill_bytes`: same rows in the warehouse, no files left."""

import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import yaml

from eval_platform.config import DEMO_CONFIG
from eval_platform.ingest.assets import ingest_logs
from eval_platform.ingest.spill import PartitionRows, remove_stale
from eval_platform.resources import Platform
from eval_platform.sample.generator import write_sample

DAY = date(2026, 11, 16)


def _frame(first: int, n: int, extra: bool = False) -> pl.DataFrame:
    frame = pl.DataFrame({"source_line": list(range(first, first + n)), "tags": [["a", str(i)] for i in range(n)]})
    return frame.with_columns(note=pl.lit("x")) if extra else frame


def test_rows_within_the_budget_stay_in_memory(tmp_path):
    rows = PartitionRows(tmp_path / "spill", budget_bytes=1 << 30)
    rows.add("log_records", _frame(1, 3))
    rows.add("log_records", _frame(4, 2))
    assert rows.make_room() is False
    with duckdb.connect() as conn:
        held = rows.rows(conn, "log_records")
    assert isinstance(held, pl.DataFrame)
    assert held.get_column("source_line").to_list() == [1, 2, 3, 4, 5]
    assert not (tmp_path / "spill").exists()


def test_rows_over_the_budget_are_spilled_and_read_back_whole(tmp_path):
    rows = PartitionRows(tmp_path / "spill", budget_bytes=0)
    rows.add("log_records", _frame(1, 3))
    rows.add("log_quarantine", _frame(100, 1))
    assert rows.make_room() is True
    assert rows.held_bytes == 0 and len(list((tmp_path / "spill").glob("*.parquet"))) == 2
    rows.add("log_records", _frame(4, 2, extra=True))  # a later file's frame with another column: matched by name
    with duckdb.connect() as conn:
        records = rows.rows(conn, "log_records").pl().sort("source_line")
        quarantine = rows.rows(conn, "log_quarantine").pl()
    assert records.get_column("source_line").to_list() == [1, 2, 3, 4, 5]
    assert records.get_column("tags").to_list()[3] == ["a", "0"]
    assert records.get_column("note").to_list() == [None, None, None, "x", "x"]
    assert quarantine.get_column("source_line").to_list() == [100]


def _platform(tmp_path, name, spill_bytes=None):
    write_sample(tmp_path / name, days=2, sessions_per_day=60)
    day_file = tmp_path / name / "landing" / "native" / f"{DAY}.jsonl"
    lines = day_file.read_bytes().splitlines(keepends=True)
    day_file.write_bytes(b"".join(lines[: len(lines) // 2]))  # the day in two files, so a spill can happen between
    day_file.with_name(f"{DAY}-part2.jsonl").write_bytes(b"".join(lines[len(lines) // 2 :]))
    cfg = yaml.safe_load(DEMO_CONFIG.read_text())
    if spill_bytes is not None:
        cfg.setdefault("ingest", {})["spill_bytes"] = spill_bytes
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return Platform(data_dir=str(tmp_path / name), config_path=str(path))


def _tables(platform):
    with duckdb.connect(str(platform.data.warehouse), read_only=True) as conn:
        return {table: conn.sql(f"SELECT * EXCLUDE (ingest_run_id) FROM {table} ORDER BY ALL").fetchall()
                for table in ("log_records", "log_quarantine")}


def test_a_spilled_partition_writes_the_same_rows_and_leaves_no_files(tmp_path):
    held, spilled = _platform(tmp_path, "held"), _platform(tmp_path, "spilled", spill_bytes=0)
    runs = {}
    for name, platform in (("held", held), ("spilled", spilled)):
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([ingest_logs], partition_key=DAY.isoformat(), resources={"platform": platform},
                                instance=instance)
        assert result.success
        runs[name] = [e.message for e in instance.all_logs(result.run_id) if "spilled to Parquet" in (e.message or "")]
    assert runs["held"] == [] and runs["spilled"]
    assert _tables(spilled) == _tables(held)
    assert _tables(held)["log_records"]
    assert list(spilled.data.tmp.iterdir()) == []


def test_only_old_spill_folders_are_removed(tmp_path):
    old, fresh, other = tmp_path / "ingest-old", tmp_path / "ingest-fresh", tmp_path / "keep-old"
    for path in (old, fresh, other):
        path.mkdir()
        (path / "log_records-00000.parquet").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86_400
    for path in (old, other):
        os.utime(path, (two_days_ago, two_days_ago))
    assert remove_stale(tmp_path, "ingest-") == [old]
    assert not old.exists() and fresh.exists() and other.exists()


def test_the_configured_duckdb_memory_limit_reaches_asset_connections(tmp_path):
    bounded = _platform(tmp_path, "bounded")
    cfg = yaml.safe_load(Path(bounded.config_path).read_text())
    cfg["warehouse"] = {"memory_limit": "512MiB"}
    Path(bounded.config_path).write_text(yaml.safe_dump(cfg))
    bounded = Platform(data_dir=bounded.data_dir, config_path=bounded.config_path)
    with bounded.warehouse() as conn:
        assert conn.execute("SELECT current_setting('memory_limit')").fetchall() == [("512.0 MiB",)]
    with _platform(tmp_path, "default").warehouse() as conn:  # unset: DuckDB's own default, far above
        assert conn.execute("SELECT current_setting('memory_limit')").fetchall() != [("512.0 MiB",)]
