from datetime import date, datetime

import polars as pl
import pytest

from eval_platform.labels import EXPERT_FLAGS_SCHEMA
from eval_platform.sessions.build import compute_traffic, rebuild_sessions
from eval_platform.warehouse import connect, replace_rows


def _records(rows):
    base = {"turn": 1, "served_model": "m", "status": "ok", "user_outcome": None, "source_file": "f", "source_line": 1, "source_format": "native"}
    frame = pl.DataFrame([{**base, **r} for r in rows])
    return frame.with_columns(
        pl.col("ts").str.to_datetime(), pl.col("ts").str.to_datetime().dt.date().alias("day"), pl.col("turn").cast(pl.Int32)
    )


@pytest.fixture
def conn(tmp_path):
    with connect(tmp_path / "eval.duckdb") as c:
        yield c


RECORDS = [
    # s1: two turns on primary, abandoned on the last turn
    {"record_id": "r1", "session_id": "s1", "ts": "2026-11-20T10:00:00", "routing_path": "primary"},
    {"record_id": "r2", "session_id": "s1", "ts": "2026-11-20T10:01:00", "turn": 2, "routing_path": "primary", "user_outcome": "abandoned"},
    # s2: crosses midnight, fallback then primary, escalated wins over abandoned
    {"record_id": "r3", "session_id": "s2", "ts": "2026-11-20T23:59:00", "routing_path": "fallback", "user_outcome": "abandoned"},
    {"record_id": "r4", "session_id": "s2", "ts": "2026-11-21T00:01:00", "turn": 2, "routing_path": "primary", "user_outcome": "escalated", "status": "error"},
    # s3: resolved, flagged by record id; s4: flagged by session id
    {"record_id": "r5", "session_id": "s3", "ts": "2026-11-21T08:00:00", "routing_path": "code"},
    {"record_id": "r6", "session_id": "s4", "ts": "2026-11-21T09:00:00", "routing_path": "primary"},
]


def test_sessions_outcomes_paths_and_flags(conn):
    replace_rows(conn, "log_records", _records(RECORDS), "true")
    flags = pl.DataFrame({"session_id": [None, "s4"], "record_id": ["r5", None], "note": ["bad code", "wrong tone"]}, schema=EXPERT_FLAGS_SCHEMA)
    assert rebuild_sessions(conn, flags, date(2026, 11, 21), 7) == 4
    got = {r["session_id"]: r for r in conn.sql("SELECT * FROM sessions").pl().iter_rows(named=True)}
    assert got["s1"]["outcome"] == "abandoned" and got["s1"]["n_turns"] == 2 and got["s1"]["record_ids"] == ["r1", "r2"]
    assert got["s2"]["outcome"] == "escalated" and got["s2"]["routing_paths"] == ["fallback", "primary"]
    assert got["s2"]["day"] == date(2026, 11, 20) and got["s2"]["last_ts"] == datetime(2026, 11, 21, 0, 1)
    assert got["s3"]["outcome"] == "resolved" and got["s3"]["expert_flagged"] and got["s3"]["expert_note"] == "bad code"
    assert got["s4"]["expert_flagged"] and not got["s1"]["expert_flagged"]
    # rebuilding is idempotent
    rebuild_sessions(conn, flags, date(2026, 11, 21), 7)
    assert conn.execute("SELECT count(*) FROM sessions").fetchall()[0][0] == 4


def test_a_session_whose_records_are_gone_is_dropped_on_rebuild(conn):
    """A re-ingested file can rename a session (new id scheme) or drop it: its old row must not linger."""
    flags = pl.DataFrame(schema=EXPERT_FLAGS_SCHEMA)
    replace_rows(conn, "log_records", _records(RECORDS), "true")
    rebuild_sessions(conn, flags, date(2026, 11, 21), 7)
    renamed = [{**r, "session_id": "s1-new"} if r["session_id"] == "s1" else r for r in RECORDS]
    replace_rows(conn, "log_records", _records(renamed), "true")
    assert rebuild_sessions(conn, flags, date(2026, 11, 21), 7) == 4
    ids = {r[0] for r in conn.execute("SELECT session_id FROM sessions").fetchall()}
    assert ids == {"s1-new", "s2", "s3", "s4"}


def test_traffic_shares_and_threshold(conn):
    replace_rows(conn, "log_records", _records(RECORDS), "true")
    rebuild_sessions(conn, pl.DataFrame(schema=EXPERT_FLAGS_SCHEMA), date(2026, 11, 21), 7)
    traffic = compute_traffic(conn, date(2026, 11, 21), 7, meaningful_share=0.2)
    rows = {r["routing_path"]: r for r in traffic.iter_rows(named=True)}
    assert rows["primary"]["requests"] == 4 and rows["primary"]["share"] == pytest.approx(4 / 6)
    assert rows["primary"]["failed_requests"] == 1
    assert rows["primary"]["abandoned"] == 1 and rows["primary"]["escalated"] == 1
    assert rows["fallback"]["escalated"] == 1 and rows["fallback"]["sessions"] == 1
    assert not rows["code"]["meaningful"] and rows["primary"]["meaningful"]
    assert traffic["share"].sum() == pytest.approx(1.0)
    # a window that ends before the data sees nothing from later days
    early = compute_traffic(conn, date(2026, 11, 20), 1, meaningful_share=0.2)
    assert set(early["routing_path"]) == {"primary", "fallback"} and early["requests"].sum() == 3
