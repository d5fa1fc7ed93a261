"""The DuckDB warehouse: connections and the one write pattern every asset uses.

Every write is "delete the slice, insert the new rows BY NAME" inside one transaction, so a failed
insert leaves the old rows in place (the trap in STACK-NOTES section 2.2). Values from logs or config
are always bound as parameters; the few identifiers that must be dynamic (table names) come from the
contract and are checked against a fixed pattern.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from eval_platform.contract import TABLES, ensure_schema

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def checked_identifier(name: str) -> str:
    """Return `name` if it is a plain lower-case identifier; raise otherwise (never interpolate log text)."""
    if not _IDENT.match(name):
        raise ValueError(f"refusing to use {name!r} as an SQL identifier")
    return name


@contextmanager
def connect(path: Path, *, read_only: bool = False, retries: int = 20,
            memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating it owner-only), retrying briefly while another process holds the lock.

    `memory_limit` (DuckDB's setting, e.g. "2GB") bounds what the connection's queries and checkpoints use.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    delay = 0.05
    for attempt in range(retries):
        try:
            conn = duckdb.connect(str(path), read_only=read_only,
                                  config={"memory_limit": memory_limit} if memory_limit else {})
            break
        except duckdb.IOException as exc:
            # only a lock held by another process is worth waiting for; a missing file or a permission
            # problem is reported at once
            if attempt == retries - 1 or "lock" not in str(exc).lower():
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        if not read_only:
            os.chmod(path, 0o600)
            ensure_schema(conn)
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction around several `replace_rows(..., transaction=False)`: all of them or none."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame | pl.LazyFrame | duckdb.DuckDBPyRelation | None,
    where: str,
    params: Sequence[object] = (),
    *,
    transaction: bool = True,
) -> int:
    """Delete `table` rows matching `where` and insert `frame` BY NAME, in one transaction.

    `where` is a fixed SQL predicate written in this package with `?` placeholders for `params`.
    With `transaction=False` the caller owns the transaction (several tables replaced atomically).
    Returns the number of rows inserted.
    """
    table = checked_identifier(table)
    if table not in TABLES:
        raise ValueError(f"{table} is not a contract table")
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if isinstance(frame, pl.DataFrame):  # string_view Arrow: zero-copy from polars, scanned directly by DuckDB
        frame = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    if frame is not None:
        conn.register("_incoming", frame)
    try:
        if transaction:
            conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(f"DELETE FROM {table} WHERE {where}", list(params))
            inserted = 0
            if frame is not None:  # INSERT returns its row count: a relation is not run a second time to count
                inserted = conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming").fetchall()[0][0]
            if transaction:
                conn.execute("COMMIT")
            return inserted
        except BaseException:
            if transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        if frame is not None:
            conn.unregister("_incoming")


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> object:
    """The first column of the first row, or None. Fetches everything: DuckDB 2.0 refuses new work on a
    connection while a result is only partly fetched (`fetchone()` leaves it open)."""
    rows = conn.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None
