"""A partition's rows on their way to its one write transaction, in memory up to a budget, then on disk.

A day of logs is written in one transaction, so its rows must be somewhere until then. Holding every file's
redacted records in memory made peak memory grow with the day (about 2.3x its raw size). `PartitionRows`
holds them in memory while they fit in `ingest.spill_bytes`; before the next file is ingested, rows over
that budget are written to Parquet files in a private temporary folder, and the transaction inserts them
from there. Peak memory is then about the budget plus one file's ingestion, whatever the day's volume. A
day whose rows fit (one 1.5 GB file does with the default) never touches the disk.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import polars as pl


class PartitionRows:
    """Frames per table, held in memory until `budget_bytes` is passed, then spilled to `directory`."""

    def __init__(self, directory: Path, budget_bytes: int):
        self.directory = Path(directory)
        self.budget_bytes = budget_bytes
        self.frames: dict[str, list[pl.DataFrame]] = {}
        self.files: dict[str, list[Path]] = {}
        self.held_bytes = 0
        self.spilled_bytes = 0

    def add(self, table: str, frame: pl.DataFrame) -> None:
        self.frames.setdefault(table, []).append(frame)
        self.held_bytes += int(frame.estimated_size())

    def make_room(self) -> bool:
        """Spill what is held if it is over the budget (call before ingesting the next file). True if it did."""
        if self.held_bytes <= self.budget_bytes:
            return False
        self._spill()
        return True

    def _spill(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for table, frames in self.frames.items():
            if not frames:
                continue
            path = self.directory / f"{table}-{len(self.files.get(table, [])):05d}.parquet"
            # lz4: cheap to write and to read back; the files live only until the transaction ends
            pl.concat(frames, how="diagonal_relaxed").write_parquet(path, compression="lz4")
            self.files.setdefault(table, []).append(path)
            frames.clear()
        self.spilled_bytes += self.held_bytes
        self.held_bytes = 0

    def rows(self, conn: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame | duckdb.DuckDBPyRelation | None:
        """Everything added for `table`, for `replace_rows` inside the caller's transaction: a frame when
        nothing was spilled, else a relation over the spilled files (what was still held is spilled first,
        so files of different frames meet by column name, never by position)."""
        if not self.files:
            frames = self.frames.get(table, [])
            return pl.concat(frames, how="diagonal_relaxed") if frames else None
        if any(self.frames.values()):
            self._spill()
        files = self.files.get(table, [])
        return conn.read_parquet([str(f) for f in files], union_by_name=True) if files else None


def remove_stale(directory: Path, prefix: str, older_than_seconds: float = 86_400) -> list[Path]:
    """Remove `prefix*` folders a killed run left in `directory` (a finished run removes its own); only
    those untouched for `older_than_seconds`, so a run still going is never disturbed. Returns them."""
    cutoff = time.time() - older_than_seconds
    stale = [p for p in Path(directory).glob(f"{prefix}*") if p.is_dir() and p.stat().st_mtime < cutoff]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale
