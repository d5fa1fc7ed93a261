"""Which landing files belong to which daily partition."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

LOG_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".parquet")
_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def file_day(relative_path: str) -> date | None:
    """The last YYYY-MM-DD in the file's path (file name or a directory): the file's partition day."""
    for match in reversed(list(_DAY.finditer(relative_path))):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
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
