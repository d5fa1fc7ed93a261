"""Helpers for Dagster metadata a person reads in the UI: markdown previews with log text escaped."""

from __future__ import annotations

import polars as pl

_MD_SPECIAL = str.maketrans({"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "#": "\\#"})


def escape_md(value: object, limit: int = 160) -> str:
    """Log text is hostile: strip control characters and escape markdown/HTML before it reaches the UI."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_MD_SPECIAL)


def markdown_preview(frame: pl.DataFrame, rows: int = 10, limit: int = 160) -> str:
    """A markdown table of the first `rows` rows, every cell escaped."""
    if frame.is_empty():
        return "_no rows_"
    head = frame.head(rows)
    lines = ["| " + " | ".join(escape_md(c) for c in head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(escape_md(v, limit) for v in row) + " |" for row in head.iter_rows()]
    if frame.height > rows:
        lines.append(f"\n_{frame.height - rows} more row(s)_")
    return "\n".join(lines)
