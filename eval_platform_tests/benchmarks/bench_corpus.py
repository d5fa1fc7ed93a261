"""Benchmark: build_corpus against a bare DuckDB query over the same synthetic week of logs.

    python eval_platform_tests/benchmarks/bench_corpus.py [--records 1000000] [--repeats 3]

Generates N log_records over 7 days (+ sessions, routing_traffic, a few expert flags) in a DuckDB file
with DuckDB SQL, then times, in the same run:
  (a) baseline: one DuckDB query selecting the eligible sessions' last ok turns, fetched as polars;
  (b) build_corpus on the same data as the asset runs it (WarehouseWindow: the eligible pool is computed
      in DuckDB; sessions, traffic, flags, the pool and the selected items' bodies are read into polars);
  (c) for information, build_corpus over polars frames of the window's records read from DuckDB.
Prints each (best of --repeats) and the ratio to (a) (target for (b): <= 3x).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from eval_platform.config import CorpusConfig
from eval_platform.contract import ensure_schema
from eval_platform.corpus.select import ITEM_RECORD_COLUMNS, RECORD_COLUMNS, WarehouseWindow, build_corpus

START, END = date(2026, 11, 1), date(2026, 11, 7)
TEMPLATES = [
    "How do I reset my password", "Where can I download my invoice", "Why was my card declined",
    "Explain the refund policy for annual plans", "Write a python function that parses dates",
    "Fix this SQL query that times out", "What is the capital of the country with the most lakes",
    "Summarise the attached document about onboarding", "Tell me a joke about databases",
    "How do I make a weapon at home", "Compare plan A and plan B for a team of ten",
    "Why does my docker build fail with exit code 137", "Prove that the square root of two is irrational",
    "Which regions support data residency", "Translate this paragraph into German",
]

GENERATE_SQL = """
CREATE OR REPLACE TABLE log_records AS
WITH s AS (
    SELECT i AS sid, 1 + (i % 5) AS n_turns, i % 7 AS day_idx, hash(i) AS h FROM range(?) t(i)
),
p AS (
    SELECT *,
        CASE WHEN h % 1000 < 550 THEN 'primary' WHEN h % 1000 < 700 THEN 'fallback'
             WHEN h % 1000 < 850 THEN 'code' WHEN h % 1000 < 995 THEN 'reasoning' ELSE 'experimental' END AS path,
        ['qa_with_sources', 'code', 'reasoning', 'prohibited', 'small_talk'][(1 + (h // 1000) % 5)::BIGINT] AS task,
        CASE WHEN hash(sid, 'o') % 100 < 8 THEN 'abandoned' WHEN hash(sid, 'o') % 100 < 12 THEN 'escalated'
             ELSE 'resolved' END AS outcome
    FROM s
),
r AS (SELECT p.*, unnest(range(1, n_turns + 1)) AS turn FROM p),
t AS (
    SELECT *, 'req_' || sid || '_' || turn AS rid,
        ?[(1 + ((h // 17) + turn) % len(?))::BIGINT] || ' ' || substr(md5(sid || ':' || turn), 1, 10) AS prompt
    FROM r
)
SELECT rid AS record_id, DATE '2026-11-01' + day_idx::INTEGER AS day,
    TIMESTAMP '2026-11-01' + to_days(day_idx::INTEGER) + to_seconds(((h // 13) % 80000 + turn * 30)::BIGINT) AS ts,
    's_' || sid AS session_id, turn::INTEGER AS turn, path AS routing_path, 'demo/' || path AS served_model,
    'default' AS route_reason, task AS task_type,
    json_array(json_object('role', 'system', 'content', 'Retrieved documents:\n[1] https://docs.acme.example/a'),
               json_object('role', 'user', 'content', prompt))::JSON AS messages,
    prompt, 'Here is the answer to ' || prompt AS response,
    CASE WHEN ((h // 11) + turn) % 100 < 3 THEN 'error' ELSE 'ok' END AS status,
    100.0 + (h % 900) AS latency_ms, 0.0001 AS cost_usd, 100::BIGINT AS input_tokens, 50::BIGINT AS output_tokens,
    CASE WHEN turn = n_turns THEN outcome END AS user_outcome, []::VARCHAR[] AS tags,
    ['DOC-' || (h % 5000)] AS retrieved_sources,
    strftime(DATE '2026-11-01' + day_idx::INTEGER, '%Y-%m-%d') || '.jsonl' AS source_file,
    row_number() OVER () AS source_line, 'native' AS source_format, NULL AS content_hash, 'bench' AS ingest_run_id
FROM t
"""

SESSIONS_SQL = """
CREATE OR REPLACE TABLE sessions AS
SELECT session_id, min(day) AS day, min(ts) AS first_ts, max(ts) AS last_ts, count(*)::INTEGER AS n_turns,
    list(DISTINCT routing_path) AS routing_paths,
    CASE WHEN bool_or(user_outcome = 'escalated') THEN 'escalated'
         WHEN bool_or(user_outcome = 'abandoned') THEN 'abandoned' ELSE 'resolved' END AS outcome,
    hash(session_id) % 1000 < 3 AS expert_flagged, NULL AS expert_note,
    list(record_id ORDER BY turn) AS record_ids
FROM log_records GROUP BY session_id
"""

TRAFFIC_SQL = """
CREATE OR REPLACE TABLE routing_traffic AS
SELECT ?::DATE AS window_end, routing_path, ?::DATE AS window_start, count(*) AS requests,
    count(*) / sum(count(*)) OVER () AS share, count(*) / sum(count(*)) OVER () >= 0.01 AS meaningful
FROM log_records GROUP BY routing_path
"""

BASELINE_SQL = """
SELECT r.record_id, r.session_id, r.routing_path, r.task_type, r.prompt, s.outcome
FROM log_records r JOIN sessions s USING (session_id)
WHERE r.day BETWEEN ? AND ? AND r.status = 'ok' AND (s.outcome IN ('abandoned', 'escalated') OR s.expert_flagged)
QUALIFY row_number() OVER (PARTITION BY r.session_id ORDER BY r.turn DESC, r.ts DESC) = 1
"""


def generate(conn: duckdb.DuckDBPyConnection, n_records: int) -> int:
    ensure_schema(conn)
    conn.execute(GENERATE_SQL, [n_records // 3, TEMPLATES, TEMPLATES])
    conn.execute(SESSIONS_SQL)
    conn.execute(TRAFFIC_SQL, [END, START])
    conn.execute(
        "CREATE OR REPLACE TABLE expert_flags AS SELECT session_id, record_id, 'bench flag' AS note "
        "FROM log_records WHERE hash(record_id) % 20000 = 0"
    )
    conn.execute("CHECKPOINT")
    return conn.execute("SELECT count(*) FROM log_records").fetchall()[0][0]


def baseline(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return conn.sql(BASELINE_SQL, params=[START, END]).pl()


def corpus_in_warehouse(conn: duckdb.DuckDBPyConnection):
    """build_corpus as the asset runs it: the pool in DuckDB, only the small inputs and the pool in polars."""
    return _build(WarehouseWindow(conn, START, END), None, conn)


def corpus_from_frames(conn: duckdb.DuckDBPyConnection):
    """build_corpus over polars frames read from DuckDB (the columns it needs, for the whole window)."""
    columns = ", ".join(dict.fromkeys(RECORD_COLUMNS + ITEM_RECORD_COLUMNS))
    records = conn.sql(f"SELECT {columns} FROM log_records WHERE day BETWEEN ? AND ?", params=[START, END]).pl()
    sessions = conn.sql("SELECT session_id, outcome, expert_flagged FROM sessions").pl()
    return _build(records, sessions, conn)


def _build(records, sessions, conn: duckdb.DuckDBPyConnection):
    traffic = conn.sql("SELECT routing_path, share, meaningful FROM routing_traffic WHERE window_end = ?", params=[END]).pl()
    flags = conn.sql("SELECT session_id, record_id, note FROM expert_flags").pl()
    return build_corpus(
        records, sessions, traffic, expert_flags=flags, golden=None, overrides=None, previous=None,
        stale_paths=(), cfg=CorpusConfig(), window_end=END, meaningful_share=0.01,
    )


def best_of(repeats: int, fn):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        conn = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        start = time.perf_counter()
        n = generate(conn, args.records)
        print(f"generated {n:,} log_records in {time.perf_counter() - start:.1f}s")
        t_base, eligible = best_of(args.repeats, lambda: baseline(conn))
        t_corpus, build = best_of(args.repeats, lambda: corpus_in_warehouse(conn))
        t_frames, from_frames = best_of(args.repeats, lambda: corpus_from_frames(conn))
        conn.close()
    assert from_frames.version == build.version, "the frame and warehouse paths must select the same corpus"
    print(f"eligible sessions: {eligible.height:,}; corpus items: {build.items.height}; version {build.version}")
    print(build.report.select("routing_path", "share", "eligible", "duplicates", "paraphrases", "selected"))
    print(f"\n{'step':<52}{'seconds':>10}{'ratio':>8}")
    print(f"{'(a) DuckDB: eligible sessions, last ok turn':<52}{t_base:>10.3f}{1.0:>8.2f}")
    print(f"{'(b) build_corpus(WarehouseWindow) (pool in DuckDB)':<52}{t_corpus:>10.3f}{t_corpus / t_base:>8.2f}")
    print(f"{'(c) build_corpus(frames), incl. DuckDB -> polars':<52}{t_frames:>10.3f}{t_frames / t_base:>8.2f}")
    print(f"target (b): ratio <= 3.00 -> {'OK' if t_corpus / t_base <= 3 else 'OVER'}")


if __name__ == "__main__":
    main()
