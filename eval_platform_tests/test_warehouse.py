import subprocess
import sys
import time

import duckdb
import polars as pl
import pytest

from eval_platform.warehouse import checked_identifier, connect, replace_rows


def test_replace_rows_is_atomic_and_by_name(tmp_path):
    db = tmp_path / "w" / "eval.duckdb"
    with connect(db) as conn:
        first = pl.DataFrame({"routing_path": ["a", "b"], "window_end": ["2026-01-01"] * 2, "requests": [1, 2]}).with_columns(pl.col("window_end").str.to_date())
        assert replace_rows(conn, "routing_traffic", first, "window_end = ?", ["2026-01-01"]) == 2
        # columns in another order are inserted by name
        reordered = first.select("requests", "window_end", "routing_path").with_columns(pl.col("requests") * 10)
        replace_rows(conn, "routing_traffic", reordered, "window_end = ?", ["2026-01-01"])
        assert conn.execute("SELECT sum(requests) FROM routing_traffic").fetchone()[0] == 30
        # a failing insert (unknown column) leaves the old rows in place
        bad = reordered.with_columns(nonsense=pl.lit(1))
        with pytest.raises(duckdb.Error):
            replace_rows(conn, "routing_traffic", bad, "window_end = ?", ["2026-01-01"])
        assert conn.execute("SELECT count(*) FROM routing_traffic").fetchone()[0] == 2
    assert oct(db.stat().st_mode & 0o777) == "0o600"


def test_identifiers_from_logs_are_refused():
    assert checked_identifier("log_records") == "log_records"
    for hostile in ["log_records; DROP TABLE x", "Robert'); --", "a b", ""]:
        with pytest.raises(ValueError):
            checked_identifier(hostile)


def test_replace_rows_only_contract_tables(tmp_path):
    with connect(tmp_path / "e.duckdb") as conn, pytest.raises(ValueError):
        replace_rows(conn, "not_a_table", None, "true")


def test_a_missing_database_fails_at_once(tmp_path):
    started = time.monotonic()
    with pytest.raises(duckdb.IOException, match="database does not exist"), connect(tmp_path / "none.duckdb", read_only=True):
        pass
    assert time.monotonic() - started < 2  # not the lock-retry loop (about 30 s)


def test_a_lock_held_by_another_process_is_waited_for(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(1.5)"
    ), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with connect(path) as conn:  # retries while the other process holds the lock, then opens it
            assert conn.execute("SELECT 1").fetchall() == [(1,)]
    finally:
        holder.wait(timeout=30)
