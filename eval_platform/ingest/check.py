"""`eval-platform check-logs`: what ingestion would make of files, without a warehouse or a Dagster run.

For people pointing eval_platform at their own logs for the first time: the format each file is read as,
the line accounting, why lines would be quarantined (grouped, with example line numbers) and what the
records look like (routing paths, models, sessions). Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from eval_platform.config import PlatformConfig
from eval_platform.ingest.file_ingest import ingest_file


@dataclass
class FileCheck:
    report: str
    ok: bool  # a known format, some records, and a quarantine share within ingest.quarantine_warn_rate


def check_file(path: Path, config: PlatformConfig, landing: Path | None = None, examples: int = 5) -> FileCheck:
    """Ingest `path` in memory and describe the outcome. `ingest.format_by_glob` matches the path under
    `landing` when the file is there (as ingestion will), else the file's name."""
    shown, path = path, Path(path).resolve()
    root = Path(landing).resolve() if landing is not None else None
    result = ingest_file(path, root if root is not None and root in path.parents else path.parent, config)
    stats, records, quarantine = result.stats, result.records, result.quarantine
    lines = max(stats["lines"], 1)
    # one line can hold several records (an OTLP export of several spans): say so when it happens
    many = f" ({records.height:,} records)" if records.height != stats["records"] else ""
    out = [f"{shown}: {stats['format']}, {stats['lines']:,} lines -> {stats['records']:,} with records{many}, "
           f"{stats['quarantined']:,} quarantined, {stats['skipped']:,} skipped"]
    if quarantine.height:
        reasons = (
            quarantine.with_columns(reason=pl.col("error").str.replace(r"^line \d+: ", ""))
            .group_by("reason")
            .agg(n=pl.len(), at=pl.col("source_line").sort().head(examples))
            .sort("n", "reason", descending=[True, False])
        )
        out.append("  quarantined:")
        for reason, n, at in reasons.head(10).iter_rows():
            out.append(f"    {n:>7,} x {reason[:160]}  (lines {', '.join(map(str, at))}{', ...' if n > len(at) else ''})")
        if reasons.height > 10:
            out.append(f"    ... and {reasons.height - 10} other reasons")
    if records.height:
        paths = records.group_by("routing_path").agg(n=pl.len(), models=pl.col("served_model").unique().sort())
        out.append(f"  records: {records.get_column('session_id').n_unique():,} sessions, "
                   f"{records.get_column('ts').min()} .. {records.get_column('ts').max()}")
        for routing_path, n, models in paths.sort("n", descending=True).iter_rows():
            out.append(f"    {routing_path}: {n:,} record(s), served by {', '.join(m for m in models if m) or '?'}")
    ok = (stats["format"] not in ("unknown", "empty") and stats["records"] > 0
          and stats["quarantined"] / lines <= config.ingest.quarantine_warn_rate)
    return FileCheck(report="\n".join(out), ok=ok)
