"""The persistent model-response store: a small DuckDB file beside (not inside) the warehouse.

`responses` holds one successful answer per `request_hash`, so a re-run (or a run killed mid-way)
pays for nothing twice; `attempts` is an append-only log of every outcome of every run.
The file is opened only for the moment of each read or flush, never for a whole run: a long eval
never holds the lock, and a reader (an analyst, a test) can look in between flushes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

_DDL = (
    """CREATE TABLE IF NOT EXISTS responses (
        request_hash VARCHAR PRIMARY KEY, model VARCHAR, repeat_index INTEGER, response VARCHAR,
        input_tokens BIGINT, output_tokens BIGINT, cost_usd DOUBLE, cost_note VARCHAR,
        latency_ms DOUBLE, attempts INTEGER, created_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS attempts (
        run_id VARCHAR, request_hash VARCHAR, model VARCHAR, status VARCHAR, error VARCHAR,
        attempts INTEGER, latency_ms DOUBLE, cost_usd DOUBLE, created_at TIMESTAMP)""",
)

RESPONSE_SCHEMA: dict[str, pl.DataType] = {
    "request_hash": pl.String(),
    "model": pl.String(),
    "repeat_index": pl.Int64(),
    "response": pl.String(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "cost_usd": pl.Float64(),
    "cost_note": pl.String(),
    "latency_ms": pl.Float64(),
    "attempts": pl.Int64(),
    "created_at": pl.Datetime("us"),
}
ATTEMPT_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "request_hash": pl.String(),
    "model": pl.String(),
    "status": pl.String(),
    "error": pl.String(),
    "attempts": pl.Int64(),
    "latency_ms": pl.Float64(),
    "cost_usd": pl.Float64(),
    "created_at": pl.Datetime("us"),
}


class ResponseStore:
    """Stored successes keyed by request hash, plus the attempts log, in the DuckDB file at `path`."""

    def __init__(self, path: str | os.PathLike, *, lock_wait_s: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_wait_s = lock_wait_s

    @contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        in_memory = read_only and not self.path.exists()
        # nothing stored yet: answer reads from empty tables instead of creating the file
        conn = duckdb.connect(":memory:") if in_memory else self._open_retrying(read_only)
        try:
            if not read_only or in_memory:
                for ddl in _DDL:
                    conn.execute(ddl)
            yield conn
        finally:
            conn.close()

    def _open_retrying(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        # another process may hold the file for a moment (its flush, a reader): wait, do not fail
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_s
        delay = 0.02
        while True:
            try:
                conn = duckdb.connect(str(self.path), read_only=read_only)
                if not read_only:
                    os.chmod(self.path, 0o600)  # prompts and answers: owner only
                return conn
            # ConnectionException: this process holds the file open for writing at the moment
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if time.monotonic() > deadline:
                    raise OSError(f"{self.path}: response store is locked by another process: {exc}") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def lookup(self, request_hashes: Sequence[str]) -> pl.DataFrame:
        """Stored successes for these hashes (RESPONSE_SCHEMA columns; missing hashes are absent)."""
        if not request_hashes or not self.path.exists():
            return pl.DataFrame(schema=RESPONSE_SCHEMA)
        wanted = pl.DataFrame({"request_hash": list(request_hashes)}, schema={"request_hash": pl.String()})
        with self._connect(read_only=True) as conn:
            conn.register("_wanted", wanted)
            found = conn.sql(
                "SELECT r.* FROM responses r SEMI JOIN _wanted w ON r.request_hash = w.request_hash"
            ).pl()
        return found.cast(RESPONSE_SCHEMA)

    def save(self, responses: pl.DataFrame, attempts: pl.DataFrame) -> None:
        """Upsert successful responses and append attempts, in one transaction."""
        if responses.is_empty() and attempts.is_empty():
            return
        with self._connect(read_only=False) as conn:
            conn.register("_responses", responses.select(list(RESPONSE_SCHEMA)).cast(RESPONSE_SCHEMA))
            conn.register("_attempts", attempts.select(list(ATTEMPT_SCHEMA)).cast(ATTEMPT_SCHEMA))
            conn.execute("BEGIN TRANSACTION")
            try:
                conn.execute("INSERT OR REPLACE INTO responses BY NAME SELECT * FROM _responses")
                conn.execute("INSERT INTO attempts BY NAME SELECT * FROM _attempts")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def responses(self) -> pl.DataFrame:
        """Every stored success."""
        with self._connect(read_only=True) as conn:
            return (
                conn.sql("SELECT * FROM responses ORDER BY created_at, request_hash")
                .pl()
                .cast(RESPONSE_SCHEMA)
            )

    def attempts(self, run_id: str | None = None) -> pl.DataFrame:
        """The attempts log, optionally for one run."""
        with self._connect(read_only=True) as conn:
            frame = conn.sql(
                "SELECT * FROM attempts WHERE ? IS NULL OR run_id = ? ORDER BY created_at",
                params=[run_id, run_id],
            ).pl()
        return frame.cast(ATTEMPT_SCHEMA)
