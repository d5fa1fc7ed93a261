"""Sessions and routing traffic, as DuckDB SQL over `log_records`.

Outcome rules (documented in the README): a session is `escalated` if any of its records says
user_outcome = 'escalated', else `abandoned` if any says 'abandoned', else `resolved`. Adapters for
formats without a native `user_outcome` derive it from the configured tag/metadata rules at ingest.
A session is expert-flagged when `labels/expert_flags.csv` names the session or one of its records.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from eval_platform.warehouse import replace_rows

# Sessions touching the window are rebuilt from all their records (a session may cross midnight).
_TOUCHED = "SELECT DISTINCT session_id FROM log_records WHERE day BETWEEN ? AND ?"

SESSIONS_SQL = f"""
WITH touched AS ({_TOUCHED}),
recs AS (SELECT r.* FROM log_records r SEMI JOIN touched t ON r.session_id = t.session_id),
flag_by_session AS (
    SELECT f.session_id, string_agg(DISTINCT f.note, '; ') AS note FROM expert_flags f
    WHERE f.session_id IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT r.session_id, string_agg(DISTINCT f.note, '; ') FROM expert_flags f JOIN recs r ON r.record_id = f.record_id
    GROUP BY ALL
),
flags AS (SELECT session_id, string_agg(note, '; ') AS note FROM flag_by_session GROUP BY ALL)
SELECT
    r.session_id,
    CAST(min(r.ts) AS DATE) AS day,
    min(r.ts) AS first_ts,
    max(r.ts) AS last_ts,
    CAST(count(*) AS INTEGER) AS n_turns,
    list(DISTINCT r.routing_path ORDER BY r.routing_path) AS routing_paths,
    CASE WHEN bool_or(r.user_outcome = 'escalated') THEN 'escalated'
         WHEN bool_or(r.user_outcome = 'abandoned') THEN 'abandoned'
         ELSE 'resolved' END AS outcome,
    any_value(f.session_id) IS NOT NULL AS expert_flagged,
    any_value(f.note) AS expert_note,
    list(r.record_id ORDER BY r.turn NULLS LAST, r.ts, r.record_id) AS record_ids
FROM recs r LEFT JOIN flags f ON f.session_id = r.session_id
GROUP BY r.session_id
"""

TRAFFIC_SQL = """
WITH win AS (SELECT * FROM log_records WHERE day BETWEEN ? AND ?),
per_path AS (
    SELECT routing_path, count(*) AS requests, count(*) FILTER (WHERE status <> 'ok') AS failed_requests
    FROM win GROUP BY routing_path
),
path_sessions AS (
    SELECT DISTINCT w.routing_path, s.session_id, s.outcome, s.expert_flagged
    FROM win w JOIN sessions s ON s.session_id = w.session_id
),
per_path_sessions AS (
    SELECT routing_path, count(*) AS sessions,
           count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
           count(*) FILTER (WHERE outcome = 'escalated') AS escalated,
           count(*) FILTER (WHERE expert_flagged) AS expert_flagged
    FROM path_sessions GROUP BY routing_path
)
SELECT CAST(? AS DATE) AS window_end, CAST(? AS DATE) AS window_start, p.routing_path, p.requests,
       p.requests / sum(p.requests) OVER () AS share, p.failed_requests,
       coalesce(s.sessions, 0) AS sessions, coalesce(s.abandoned, 0) AS abandoned,
       coalesce(s.escalated, 0) AS escalated, coalesce(s.expert_flagged, 0) AS expert_flagged,
       p.requests / sum(p.requests) OVER () >= ? AS meaningful
FROM per_path p LEFT JOIN per_path_sessions s USING (routing_path)
ORDER BY p.requests DESC
"""


def window_bounds(window_end: date, window_days: int) -> tuple[date, date]:
    return window_end - timedelta(days=window_days - 1), window_end


def rebuild_sessions(conn: duckdb.DuckDBPyConnection, expert_flags: pl.DataFrame, window_end: date, window_days: int) -> int:
    """Rebuild every session with a record in the window (idempotent); returns the number of sessions."""
    start, end = window_bounds(window_end, window_days)
    conn.register("expert_flags", expert_flags)
    try:
        rows = conn.sql(SESSIONS_SQL, params=[start, end])
        # also sessions of the window whose records are all gone (a re-ingested file renamed or dropped them)
        stale = ("day <= ? AND CAST(last_ts AS DATE) >= ? AND NOT EXISTS "
                 "(SELECT 1 FROM log_records r WHERE r.session_id = sessions.session_id)")
        return replace_rows(conn, "sessions", rows, f"session_id IN ({_TOUCHED}) OR ({stale})", [start, end, end, start])
    finally:
        conn.unregister("expert_flags")


def compute_traffic(conn: duckdb.DuckDBPyConnection, window_end: date, window_days: int, meaningful_share: float) -> pl.DataFrame:
    """Each routing path's requests, share and failure signals over the window ending on `window_end`."""
    start, end = window_bounds(window_end, window_days)
    return conn.sql(TRAFFIC_SQL, params=[start, end, end, start, meaningful_share]).pl()
