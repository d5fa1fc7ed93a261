"""Which landing files belong to which daily partition."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

LOG_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".parquet")
# How exports write a day into a path: 2026-11-16 (LiteLLM's S3/GCS loggers, dt=...), 2026/11/16/ (S3-style
# date folders), year=2026/month=11/day=16 (Hive-style partitions), 20261116 (rotated file names).
_DAY = re.compile(
    r"(?<!\d)(?P<y1>\d{4})-(?P<m1>\d{2})-(?P<d1>\d{2})(?!\d)"
    r"|(?<![\w])(?P<y2>\d{4})/(?P<m2>\d{2})/(?P<d2>\d{2})(?=/)"
    r"|year=(?P<y3>\d{4})/month=(?P<m3>\d{1,2})/day=(?P<d3>\d{1,2})(?!\d)"
    r"|(?<!\d)(?P<y4>(?:19|20)\d{2})(?P<m4>[01]\d)(?P<d4>[0-3]\d)(?!\d)"
)


def file_day(relative_path: str) -> date | None:
    """The last date in the file's path (file name or folders, see `_DAY`): the file's partition day."""
    for match in reversed(list(_DAY.finditer(relative_path))):
        for i in "1234":
            if match[f"y{i}"]:
                try:
                    return date(int(match[f"y{i}"]), int(match[f"m{i}"]), int(match[f"d{i}"]))
                except ValueError:
                    break
    return None


def landing_files(landing: Path) -> list[Path]:
    """Every log file under landing/, sorted, hidden files and partial uploads (.tmp, .part) excluded."""
    if not landing.exists():
        return []
    return sorted(
        p
        for p in landing.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(LOG_SUFFIXES)
    )


def partition_day(landing: Path, path: Path) -> date:
    """A file's partition: the date in its path, else the UTC date it was last modified (documented)."""
    day = file_day(path.relative_to(landing).as_posix())
    return day or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()


def files_by_day(landing: Path) -> dict[date, list[Path]]:
    """Group landing files by partition day."""
    by_day: dict[date, list[Path]] = defaultdict(list)
    for path in landing_files(landing):
        by_day[partition_day(landing, path)].append(path)
    return dict(by_day)
