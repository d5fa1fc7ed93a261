"""A record logged again in another file is kept once; the repeat's line is quarantined with the reason."""

from datetime import date

import dagster as dg
import duckdb
import pytest
import yaml

from eval_platform.config import DEMO_CONFIG
from eval_platform.contract import ensure_schema
from eval_platform.ingest.assets import ingest_logs
from eval_platform.ingest.dedupe import drop_repeats
from eval_platform.resources import Platform
from eval_platform.sample.generator import write_sample

DAY = date(2026, 11, 16)


@pytest.fixture
def conn():
    with duckdb.connect() as connection:
        ensure_schema(connection)
        yield connection


def _add(conn, rows):
    for record_id, source_file, source_line in rows:
        conn.execute(
            "INSERT INTO log_records (record_id, day, ts, session_id, routing_path, source_file, source_line, source_format)"
            " VALUES (?, DATE '2026-11-16', TIMESTAMP '2026-11-16 10:00', 's', 'p', ?, ?, 'otel')",
            [record_id, source_file, source_line],
        )


def _records(conn):
    return conn.execute("SELECT record_id, source_file, source_line FROM log_records ORDER BY ALL").fetchall()


def test_rows_already_in_the_warehouse_win_and_emptied_lines_are_quarantined(conn):
    _add(conn, [("a", "old.jsonl", 7)])  # another file, ingested before
    # new files: "z.jsonl" line 1 repeats a; "b.jsonl" and "c.jsonl" share b (b.jsonl sorts first);
    # line 2 of c.jsonl holds two records (an OTLP batch line), one of them a repeat: the line keeps the other
    _add(conn, [("a", "z.jsonl", 1), ("b", "b.jsonl", 4), ("b", "c.jsonl", 2), ("c", "c.jsonl", 2)])
    moved = drop_repeats(conn, ["z.jsonl", "b.jsonl", "c.jsonl"])
    assert moved == {"z.jsonl": 1}
    assert _records(conn) == [("a", "old.jsonl", 7), ("b", "b.jsonl", 4), ("c", "c.jsonl", 2)]
    assert conn.execute("SELECT source_file, source_line, error FROM log_quarantine").fetchall() == [
        ("z.jsonl", 1, "line 1: field 'record_id': duplicate of 'a' first seen in old.jsonl line 7")]


def test_nothing_changes_without_repeats(conn):
    _add(conn, [("a", "old.jsonl", 1), ("b", "new.jsonl", 1), ("c", "new.jsonl", 2)])
    assert drop_repeats(conn, ["new.jsonl"]) == {}
    assert len(_records(conn)) == 3


def test_a_retried_export_in_another_file_is_kept_once_and_accounted_for(tmp_path):
    write_sample(tmp_path / "data", days=2, sessions_per_day=60)
    cfg = yaml.safe_load(DEMO_CONFIG.read_text())
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    platform = Platform(data_dir=str(tmp_path / "data"), config_path=str(tmp_path / "cfg.yaml"))
    day_file = platform.data.landing / "native" / f"{DAY}.jsonl"
    retry = day_file.with_name(f"{DAY}.retry.jsonl")  # sorts after the original: the original wins
    retry.write_bytes(b"".join(day_file.read_bytes().splitlines(keepends=True)[:40]))
    result = dg.materialize([ingest_logs], partition_key=DAY.isoformat(), resources={"platform": platform},
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["every_line_accounted_for"] is True
    with duckdb.connect(str(platform.data.warehouse), read_only=True) as db:
        (rows, ids), = db.execute("SELECT count(*), count(DISTINCT record_id) FROM log_records").fetchall()
        assert rows == ids
        retry_name = f"native/{retry.name}"
        (kept,), = db.execute("SELECT count(*) FROM log_records WHERE source_file = ?", [retry_name]).fetchall()
        dupes = db.execute("SELECT error FROM log_quarantine WHERE source_file = ? AND error LIKE '%duplicate of%'",
                           [retry_name]).fetchall()
        stats = db.execute("SELECT lines, records, quarantined FROM ingest_files WHERE source_file = ?",
                           [retry_name]).fetchall()
    assert kept == 0 and len(dupes) >= 35  # the sample's first lines are valid records, a few are malformed
    assert all(f"first seen in native/{DAY}.jsonl line" in e for (e,) in dupes)
    assert stats == [(40, 0, 40)]

    # the original goes: the retry, unchanged, is read again, and its copies are now the ones kept
    day_file.unlink()
    result = dg.materialize([ingest_logs], partition_key=DAY.isoformat(), resources={"platform": platform},
                            instance=dg.DagsterInstance.ephemeral())
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}["every_line_accounted_for"]
    with duckdb.connect(str(platform.data.warehouse), read_only=True) as db:
        (kept,), = db.execute("SELECT count(*) FROM log_records WHERE source_file = ?", [retry_name]).fetchall()
        (left,), = db.execute("SELECT count(*) FROM log_quarantine WHERE error LIKE '%duplicate of%'").fetchall()
    assert kept == len(dupes) and left == 0
