"""Shared helpers for the format-adapter tests: build a lines frame, check the line accounting."""

from __future__ import annotations

import polars as pl

from eval_platform.ingest.formats.base import ParsedBatch


def lines_frame(raws: list[str | None], errors: dict[int, str] | None = None) -> pl.DataFrame:
    """The frame `read_lines` would give for these raw lines (1-based), with optional reader errors."""
    errors = errors or {}
    return pl.DataFrame(
        {
            "source_line": range(1, len(raws) + 1),
            "raw": raws,
            "line_error": [errors.get(i) for i in range(1, len(raws) + 1)],
        },
        schema={"source_line": pl.Int64, "raw": pl.String, "line_error": pl.String},
    )


def assert_accounting(batch: ParsedBatch, n_lines: int) -> None:
    """lines that produced records + quarantined + skipped = input lines, and no line counted twice."""
    record_lines = set(batch.records["source_line"].to_list())
    quarantined = set(batch.quarantine["source_line"].to_list())
    assert not record_lines & quarantined
    assert len(quarantined) == batch.quarantine.height
    assert len(record_lines) + len(quarantined) + batch.skipped == n_lines
