"""failure_lineage and reading a source line back from its landing file (eval_platform.corpus.lineage)."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from eval_platform.contract import ensure_schema
from eval_platform.corpus.lineage import (
    FAILURE_LINEAGE_SQL,
    SourceLineError,
    format_chain,
    lineage_chain,
    read_source_line,
)


def _line(request_id: str, turn: int, prompt: str) -> str:
    return json.dumps({"request_id": request_id, "session_id": "s1", "turn": turn, "messages": [{"role": "user", "content": prompt}]}, ensure_ascii=False)


@pytest.fixture()
def landing(tmp_path):
    root = tmp_path / "landing"
    (root / "2026-11-03").mkdir(parents=True)
    plain = [_line("r0", 1, "noise"), "", _line("r1", 1, "first"), _line("r2", 2, "second \u2028 sep")]
    (root / "2026-11-03" / "a.jsonl").write_text("\n".join(plain) + "\n", encoding="utf-8")
    with gzip.open(root / "2026-11-03" / "b.jsonl.gz", "wb") as handle:
        handle.write(("\r\n".join([_line("g1", 1, "gz one"), _line("g2", 2, "gz two")]) + "\r\n").encode())
    pl.DataFrame({"request_id": ["p1", "p2"], "turn": [1, 2]}).write_parquet(root / "2026-11-03" / "c.parquet")
    return root


def test_read_source_line_returns_that_physical_line(landing):
    assert json.loads(read_source_line(landing, "2026-11-03/a.jsonl", 3))["request_id"] == "r1"
    assert read_source_line(landing, "2026-11-03/a.jsonl", 2) == ""
    assert "\u2028" in read_source_line(landing, "2026-11-03/a.jsonl", 4)  # not a line break for ingest
    assert read_source_line(landing, "2026-11-03/b.jsonl.gz", 2) == _line("g2", 2, "gz two")
    assert json.loads(read_source_line(landing, "2026-11-03/c.parquet", 2)) == {"request_id": "p2", "turn": 2}


def test_read_source_line_errors_name_the_file_and_line(landing):
    with pytest.raises(SourceLineError, match=r"2026-11-03/a\.jsonl:5: out of range"):
        read_source_line(landing, "2026-11-03/a.jsonl", 5)
    with pytest.raises(SourceLineError, match=r"2026-11-03/c\.parquet:3: out of range"):
        read_source_line(landing, "2026-11-03/c.parquet", 3)
    with pytest.raises(SourceLineError, match=r"gone\.jsonl:1: landing file is gone"):
        read_source_line(landing, "gone.jsonl", 1)
    with pytest.raises(SourceLineError, match="outside the landing directory"):
        read_source_line(landing, "../../etc/passwd", 1)


def _insert(conn, table: str, rows: list[dict]) -> None:
    conn.register("_rows", pl.DataFrame(rows))
    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    conn.unregister("_rows")


@pytest.fixture()
def warehouse(tmp_path, landing):
    conn = duckdb.connect(str(tmp_path / "eval.duckdb"))
    ensure_schema(conn)
    conn.execute(FAILURE_LINEAGE_SQL)
    base = {"day": date(2026, 11, 3), "session_id": "s1", "routing_path": "fallback", "source_format": "native", "status": "ok"}
    _insert(
        conn,
        "log_records",
        [
            {**base, "record_id": "g1", "ts": datetime(2026, 11, 3, 9), "turn": 1, "source_file": "2026-11-03/b.jsonl.gz", "source_line": 1},
            {**base, "record_id": "g2", "ts": datetime(2026, 11, 3, 10), "turn": 2, "source_file": "2026-11-03/b.jsonl.gz", "source_line": 2},
            {**base, "record_id": "r1", "ts": datetime(2026, 11, 3, 11), "turn": 1, "session_id": "s2", "source_file": "2026-11-03/a.jsonl", "source_line": 3},
        ],
    )
    item = {"corpus_item_id": "item1", "routing_path": "fallback", "session_id": "s1", "record_id": "g2",
            "source_record_ids": ["g1", "g2"], "reason": "abandoned", "task_type": "qa_with_sources"}
    _insert(conn, "corpus_items", [
        {**item, "corpus_version": "v1", "created_at": datetime(2026, 11, 4)},
        {**item, "corpus_version": "v2", "created_at": datetime(2026, 11, 5)},  # same item, next version
    ])
    _insert(conn, "eval_responses", [
        {"response_id": "resp1", "eval_run_id": "run1", "corpus_version": "v1", "corpus_item_id": "item1", "routing_path": "fallback",
         "model": "demo/fallback-small", "response": "See https://evil.example \x1b[31m", "status": "ok", "created_at": datetime(2026, 11, 4)},
    ])
    _insert(conn, "eval_scores", [
        {"response_id": "resp1", "scorer": "valid_citation", "passed": False, "explanation": "evil.example not allowed", "corpus_version": "v1"},
        {"response_id": "resp1", "scorer": "tone_policy", "passed": True, "explanation": "ok", "corpus_version": "v1"},
    ])
    _insert(conn, "online_scores", [
        {"record_id": "r1", "scorer": "tone_policy", "passed": False, "routing_path": "fallback", "served_model": "demo/fallback-small",
         "explanation": "self-reference"},
        {"record_id": "g1", "scorer": "tone_policy", "passed": True, "routing_path": "fallback", "served_model": "demo/fallback-small"},
    ])
    yield conn
    conn.close()


def test_failure_lineage_has_one_row_per_failing_score(warehouse):
    rows = warehouse.sql("SELECT * FROM failure_lineage ORDER BY source").pl().to_dicts()
    assert [(r["source"], r["scorer"]) for r in rows] == [("offline", "valid_citation"), ("online", "tone_policy")]
    offline, online = rows
    assert (offline["record_id"], offline["corpus_item_id"], offline["corpus_version"]) == ("g2", "item1", "v1")
    assert (offline["source_file"], offline["source_line"], offline["model"]) == ("2026-11-03/b.jsonl.gz", 2, "demo/fallback-small")
    assert (online["record_id"], online["session_id"], online["source_file"], online["source_line"]) == ("r1", "s2", "2026-11-03/a.jsonl", 3)


def test_chain_from_a_response_reaches_the_gz_line(warehouse, landing):
    chain = lineage_chain(warehouse, "resp1", landing)
    assert [h["hop"] for h in chain] == ["score", "score", "response", "corpus_item", "record", "record"]
    assert chain[0]["scorer"] == "valid_citation" and chain[0]["passed"] is False
    assert chain[3]["corpus_version"] == "v1"
    replayed = chain[-1]
    assert replayed["replayed"] and replayed["log_line"] == _line("g2", 2, "gz two")
    with gzip.open(landing / replayed["source_file"], "rb") as handle:
        assert handle.read().decode().split("\r\n")[replayed["source_line"] - 1] == replayed["log_line"]
    text = format_chain(chain)
    assert "2026-11-03/b.jsonl.gz:2" in text and _line("g2", 2, "gz two") in text
    assert "\x1b" not in text and "\\x1b" in text  # terminal escapes from log text are neutralised


def test_chain_from_a_record_or_an_item(warehouse, landing):
    record_chain = lineage_chain(warehouse, "r1", landing)
    assert [h["hop"] for h in record_chain] == ["score", "record"]
    assert json.loads(record_chain[-1]["log_line"])["request_id"] == "r1"
    item_chain = lineage_chain(warehouse, "item1", landing)
    assert [h["hop"] for h in item_chain][:3] == ["score", "score", "response"]
    assert item_chain[3]["corpus_version"] == "v2"  # the newest version of the item
    assert lineage_chain(warehouse, "nope", landing) == []
    assert "no response" in format_chain([])


def test_a_vanished_landing_file_is_reported_in_the_chain(warehouse, landing):
    (landing / "2026-11-03" / "a.jsonl").unlink()
    hop = lineage_chain(warehouse, "r1", landing)[-1]
    assert "landing file is gone" in hop["log_line_error"]
    assert "ERROR" in format_chain([hop])


def test_printed_landing_lines_are_redacted_unless_raw_is_asked_for():
    line = '{"request_id": "r9", "messages": [{"role": "user", "content": "mail jane.doe@example.com"}]}'
    hop = {"hop": "record", "record_id": "r9", "turn": 1, "source_file": "a.jsonl", "source_line": 4, "log_line": line}
    shown = format_chain([hop])
    assert "jane.doe@example.com" not in shown and "mail [EMAIL]" in shown and "a.jsonl:4" in shown
    assert "jane.doe@example.com" in format_chain([hop], raw=True)
    escaped = json.dumps({"messages": [{"role": "user", "content": "mail jos\u00e9.garc\u00eda@example.com"}]})
    assert "\\u00e9" in escaped  # json.dumps escapes non-ASCII by default, as many loggers do
    shown = format_chain([{**hop, "log_line": escaped}])
    assert "example.com" not in shown and "mail [EMAIL]" in shown
