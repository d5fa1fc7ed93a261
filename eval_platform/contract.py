"""The data contract (DESIGN section 3): every warehouse table's DDL, in one place.

Notebooks, checks and users depend on these names. Add columns freely; rename nothing without
updating the README's contract section. `ensure_schema` is idempotent and runs before every write.
Keys (DESIGN section 3) are enforced by asset checks, not by DuckDB PRIMARY KEY indexes: an ART index
costs memory on every insert and DuckDB rejects a delete-and-reinsert of one key inside a transaction.
"""

from __future__ import annotations

import duckdb

# The canonical columns every format adapter produces, in order (log_records minus ingest bookkeeping).
CANONICAL_COLUMNS: dict[str, str] = {
    "record_id": "VARCHAR",
    "ts": "TIMESTAMP",
    "session_id": "VARCHAR",
    "turn": "INTEGER",
    "routing_path": "VARCHAR",
    "served_model": "VARCHAR",
    "route_reason": "VARCHAR",
    "task_type": "VARCHAR",
    "messages": "JSON",
    "prompt": "VARCHAR",
    "response": "VARCHAR",
    "status": "VARCHAR",
    "error": "VARCHAR",
    "latency_ms": "DOUBLE",
    "cost_usd": "DOUBLE",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "user_outcome": "VARCHAR",
    "tags": "VARCHAR[]",
    "retrieved_sources": "VARCHAR[]",
}

TABLES: dict[str, str] = {
    "ingest_files": """
        source_file VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, day DATE, format VARCHAR,
        lines BIGINT, records BIGINT, quarantined BIGINT, skipped BIGINT,
        ingest_run_id VARCHAR, ingested_at TIMESTAMP, note VARCHAR, settings VARCHAR""",
    "log_records": """
        record_id VARCHAR, day DATE NOT NULL, ts TIMESTAMP NOT NULL, session_id VARCHAR NOT NULL,
        turn INTEGER, routing_path VARCHAR NOT NULL, served_model VARCHAR, route_reason VARCHAR,
        task_type VARCHAR, messages JSON, prompt VARCHAR, response VARCHAR, status VARCHAR, error VARCHAR,
        latency_ms DOUBLE, cost_usd DOUBLE, input_tokens BIGINT, output_tokens BIGINT,
        user_outcome VARCHAR, tags VARCHAR[], retrieved_sources VARCHAR[],
        source_file VARCHAR NOT NULL, source_line BIGINT NOT NULL, source_format VARCHAR NOT NULL,
        content_hash VARCHAR, ingest_run_id VARCHAR""",
    "log_quarantine": """
        source_file VARCHAR NOT NULL, source_line BIGINT NOT NULL, day DATE, raw VARCHAR, error VARCHAR NOT NULL,
        source_format VARCHAR, content_hash VARCHAR, ingest_run_id VARCHAR""",
    "sessions": """
        session_id VARCHAR, day DATE, first_ts TIMESTAMP, last_ts TIMESTAMP, n_turns INTEGER,
        routing_paths VARCHAR[], outcome VARCHAR, expert_flagged BOOLEAN, expert_note VARCHAR,
        record_ids VARCHAR[]""",
    "routing_traffic": """
        window_end DATE NOT NULL, routing_path VARCHAR NOT NULL, window_start DATE, requests BIGINT, share DOUBLE,
        failed_requests BIGINT, sessions BIGINT, abandoned BIGINT, escalated BIGINT, expert_flagged BIGINT,
        meaningful BOOLEAN""",
    "corpus_items": """
        corpus_item_id VARCHAR NOT NULL, corpus_version VARCHAR NOT NULL, window_end DATE, routing_path VARCHAR,
        session_id VARCHAR, record_id VARCHAR, source_record_ids VARCHAR[], reason VARCHAR, task_type VARCHAR,
        messages JSON, prompt VARCHAR, retrieved_sources VARCHAR[], should_refuse BOOLEAN, needs_citation BOOLEAN,
        label_source VARCHAR, first_selected_version VARCHAR, created_at TIMESTAMP""",
    "corpus_versions": """
        corpus_version VARCHAR, window_end DATE, created_at TIMESTAMP, items BIGINT,
        stale_paths VARCHAR[], slices JSON""",
    "eval_candidates": """
        corpus_version VARCHAR NOT NULL, routing_path VARCHAR NOT NULL, model VARCHAR NOT NULL,
        role VARCHAR, share_of_path DOUBLE""",
    "eval_responses": """
        response_id VARCHAR, eval_run_id VARCHAR, corpus_version VARCHAR, corpus_item_id VARCHAR,
        routing_path VARCHAR, model VARCHAR, repeat_index INTEGER, request_hash VARCHAR, response VARCHAR,
        status VARCHAR, error VARCHAR, latency_ms DOUBLE, cost_usd DOUBLE, input_tokens BIGINT,
        output_tokens BIGINT, cached BOOLEAN, created_at TIMESTAMP, cost_note VARCHAR, attempts INTEGER""",
    "eval_scores": """
        response_id VARCHAR NOT NULL, scorer VARCHAR NOT NULL, scorer_version VARCHAR, passed BOOLEAN,
        score DOUBLE, explanation VARCHAR, corpus_version VARCHAR, routing_path VARCHAR, model VARCHAR,
        corpus_item_id VARCHAR""",
    "online_scores": """
        record_id VARCHAR NOT NULL, scorer VARCHAR NOT NULL, day DATE, routing_path VARCHAR, served_model VARCHAR,
        task_type VARCHAR, scorer_version VARCHAR, passed BOOLEAN, score DOUBLE, explanation VARCHAR""",
    "path_gaps": """
        source VARCHAR NOT NULL, window_end DATE NOT NULL, routing_path VARCHAR NOT NULL, scorer VARCHAR NOT NULL,
        model VARCHAR, n BIGINT, passes BIGINT, pass_rate DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
        rest_n BIGINT, rest_pass_rate DOUBLE, gap DOUBLE, gap_ci_low DOUBLE, gap_ci_high DOUBLE,
        p_value DOUBLE, q_value DOUBLE, flagged BOOLEAN, min_detectable_gap DOUBLE, note VARCHAR""",
    "model_matrix": """
        corpus_version VARCHAR NOT NULL, routing_path VARCHAR NOT NULL, model VARCHAR NOT NULL, scorer VARCHAR NOT NULL,
        role VARCHAR, n BIGINT, passes BIGINT, pass_rate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, errors BIGINT,
        cost_usd DOUBLE, delta_vs_serving DOUBLE, delta_ci_low DOUBLE, delta_ci_high DOUBLE, p_value DOUBLE,
        q_value DOUBLE""",
    "path_drift": """
        day DATE NOT NULL, routing_path VARCHAR NOT NULL, requests BIGINT, baseline_start DATE, baseline_end DATE,
        task_mix JSON, baseline_task_mix JSON, mix_divergence DOUBLE, stale BOOLEAN, pass_rate JSON,
        baseline_pass_rate JSON, mix_effect JSON, quality_effect JSON, note VARCHAR""",
    # the long form of path_drift's per-scorer columns, one row per scorer: easier to query and chart
    "path_drift_scores": """
        day DATE NOT NULL, routing_path VARCHAR NOT NULL, scorer VARCHAR NOT NULL, n BIGINT, pass_rate DOUBLE,
        baseline_n BIGINT, baseline_pass_rate DOUBLE, total_change DOUBLE, mix_effect DOUBLE, quality_effect DOUBLE""",
    "offline_online_gaps": """
        window_end DATE NOT NULL, routing_path VARCHAR NOT NULL, scorer VARCHAR NOT NULL,
        offline_n BIGINT, offline_pass_rate DOUBLE, offline_ci_low DOUBLE, offline_ci_high DOUBLE,
        online_n BIGINT, online_pass_rate DOUBLE, online_ci_low DOUBLE, online_ci_high DOUBLE,
        difference DOUBLE""",
    "routing_policy_eval": """
        window_end DATE NOT NULL, policy VARCHAR NOT NULL, scorer VARCHAR NOT NULL, requests BIGINT,
        pass_rate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, cost_usd DOUBLE, basis VARCHAR""",
}

def _failure_lineage() -> str:
    from eval_platform.corpus.lineage import FAILURE_LINEAGE_BODY

    return FAILURE_LINEAGE_BODY


VIEWS: dict[str, str] = {
    "corpus_latest": """
        SELECT c.* FROM corpus_items c
        WHERE c.corpus_version = (
            SELECT corpus_version FROM corpus_versions ORDER BY window_end DESC, created_at DESC LIMIT 1)""",
}


def table_columns(table: str) -> dict[str, str]:
    """Column name -> type of a contract table, parsed from its DDL above."""
    columns = {}
    for part in TABLES[table].split(","):
        name, col_type = part.split()[:2]
        columns[name] = col_type
    return columns


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every contract table and view that does not exist yet, and add columns a newer version of
    the contract defines to tables an older version created (idempotent; never drops anything)."""
    existing: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for name, columns in TABLES.items():
        if name not in existing:
            conn.execute(f"CREATE TABLE {name} ({columns})")
            continue
        for column, col_type in table_columns(name).items():
            if column not in existing[name]:
                conn.execute(f"ALTER TABLE {name} ADD COLUMN {column} {col_type}")
    for name, body in {**VIEWS, "failure_lineage": _failure_lineage()}.items():
        conn.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")
