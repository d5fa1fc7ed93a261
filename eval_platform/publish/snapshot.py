"""The analyst snapshot: a consistent read-only copy of the warehouse that notebooks open.

DuckDB allows one writer or many readers, never both (STACK-NOTES 2.4). Notebooks therefore never
open the working database: each publish copies it to a new file and atomically renames a link name
onto it, so a notebook holding the old snapshot keeps reading its consistent state and the nightly
run is never blocked.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from eval_platform.warehouse import checked_identifier, connect, scalar

LATEST = "latest.duckdb"


def publish_snapshot(warehouse: Path, snapshots: Path, *, keep: int = 5) -> Path:
    """Copy the warehouse into `snapshots/eval-<UTC stamp>.duckdb`, make it `latest.duckdb`, prune old ones."""
    snapshots.mkdir(parents=True, exist_ok=True)
    os.chmod(snapshots, 0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = snapshots / f"eval-{stamp}.duckdb"
    partial = target.with_suffix(".duckdb.tmp")
    try:
        with connect(warehouse) as conn:
            conn.execute("ATTACH ? AS snap", [str(partial)])
            try:
                source = checked_identifier(scalar(conn, "SELECT current_database()"))
                conn.execute(f"COPY FROM DATABASE {source} TO snap")
            finally:
                conn.execute("DETACH snap")
    except BaseException:  # a failed copy leaves no full-size partial file behind
        for leftover in (partial, partial.with_name(partial.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    # A hard link published by rename: readers of the old latest keep their inode; new readers see the new one.
    staging = snapshots / f".{LATEST}.{stamp}"
    os.link(target, staging)
    os.replace(staging, snapshots / LATEST)
    _prune(snapshots, keep)
    return target


def _prune(snapshots: Path, keep: int) -> None:
    olds = sorted(snapshots.glob("eval-*.duckdb"))[:-keep]
    for path in olds:
        path.unlink(missing_ok=True)


def open_latest(snapshots: Path) -> duckdb.DuckDBPyConnection:
    """What notebooks call: a read-only connection to the current snapshot.

    ATTACH rather than `duckdb.connect(path)`: DuckDB caches one database instance per path in a
    process, so while an older connection is open a plain connect would hand back the old snapshot.
    """
    conn = duckdb.connect()
    conn.execute("ATTACH ? AS snapshot (READ_ONLY)", [str(snapshots / LATEST)])
    conn.execute("USE snapshot")
    return conn
