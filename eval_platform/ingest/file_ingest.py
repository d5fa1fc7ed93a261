"""Ingest one landing file: read its lines, map them with the file's format adapter, redact, account.

`ingest_file` is pure (no Dagster, no warehouse). Every line ends up in exactly one place: a canonical
record, a quarantine row (with the line number and the reason) or the skipped count, and the function
refuses to return if `lines != records + quarantined + skipped`. The file is read in blocks, so memory
holds the redacted records plus one block of raw lines, not the whole raw file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from itertools import chain
from pathlib import Path

import polars as pl

from eval_platform.config import PlatformConfig
from eval_platform.ingest.detect import ADAPTER_MODULES, adapter_for, detect_format
from eval_platform.ingest.formats.base import CANONICAL_SCHEMA, QUARANTINE_SCHEMA, AdapterContext, ParsedBatch
from eval_platform.ingest.lines import iter_line_batches
from eval_platform.ingest.redact import RAW_HINT, redact_frame

RECORD_TEXT_COLUMNS = ("messages", "prompt", "response")
QUARANTINE_TEXT_COLUMNS = ("raw", "error")
_DAY_IN_PATH = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


class AccountingError(RuntimeError):
    """A file whose lines do not add up: a bug in an adapter, never a property of the data."""


@dataclass
class FileIngest:
    records: pl.DataFrame  # canonical columns + source_line, source_file, source_format, content_hash, day
    quarantine: pl.DataFrame  # source_file, source_line, day, raw, error, source_format, content_hash
    stats: dict  # source_file, content_hash, format, lines, records, quarantined, skipped


def file_sha256(path: Path) -> str:
    """sha256 of the file's bytes, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def file_day(path: Path | str) -> date | None:
    """The last valid YYYY-MM-DD in the path (file name first, then the nearest directory), if any."""
    for part in reversed(Path(path).parts):
        for match in reversed(_DAY_IN_PATH.findall(part)):
            try:
                return date(*map(int, match))
            except ValueError:
                continue
    return None


def _whole_batch_quarantine(lines: pl.DataFrame, reason: str) -> pl.DataFrame:
    return lines.select(
        "source_line",
        raw="raw",
        error=pl.format("line {}: {}", "source_line", pl.coalesce("line_error", pl.lit(reason))),
        day=pl.lit(None, pl.Date),
    )


def _parse_batch(lines: pl.DataFrame, module, ctx: AdapterContext, reason: str | None) -> ParsedBatch:
    """Unreadable lines are quarantined here with their own reason; the adapter sees readable ones."""
    if module is None:
        return ParsedBatch(ParsedBatch.empty_records(), _whole_batch_quarantine(lines, reason or "unknown log format"))
    unreadable = lines.filter(pl.col("line_error").is_not_null())
    readable = lines.filter(pl.col("line_error").is_null()) if unreadable.height else lines
    parsed = module.parse(readable.select("source_line", "raw", "line_error"), ctx)
    if parsed.file_error:
        return ParsedBatch(ParsedBatch.empty_records(), _whole_batch_quarantine(lines, parsed.file_error))
    quarantine = parsed.quarantine.select(pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items())
    if unreadable.height:
        quarantine = pl.concat([_whole_batch_quarantine(unreadable, ""), quarantine]).sort("source_line")
    records = parsed.records.select(
        *(pl.col(c).cast(t) for c, t in CANONICAL_SCHEMA.items()), pl.col("source_line").cast(pl.Int64)
    )
    # one PII scan over the raw lines instead of one per text column (records' text comes from these lines)
    hinted = lines.filter(pl.col("raw").str.contains(RAW_HINT)).get_column("source_line")
    candidates = records.get_column("source_line").is_in(hinted.implode())
    return ParsedBatch(redact_frame(records, RECORD_TEXT_COLUMNS, candidates),
                       redact_frame(quarantine, QUARANTINE_TEXT_COLUMNS), parsed.skipped)


def _split_duplicates(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep the first record of each record_id; a line whose records are all repeats is quarantined."""
    first_line = pl.col("source_line").min().over("record_id")
    repeat = pl.col("source_line") != first_line
    if not records.select(repeat.any()).item():
        return records, ParsedBatch.empty_quarantine()
    flagged = records.with_columns(_first=first_line, _repeat=repeat)
    kept = flagged.filter(~pl.col("_repeat"))
    kept_lines = kept.get_column("source_line").unique()
    dropped = (
        flagged.filter(pl.col("_repeat") & ~pl.col("source_line").is_in(kept_lines.implode()))
        .group_by("source_line", maintain_order=True)
        .agg(
            raw=pl.lit(None, pl.String),
            error=pl.format("line {}: field 'record_id': duplicate of '{}' first seen on line {}",
                            pl.col("source_line").first(), pl.col("record_id").first(), pl.col("_first").first()),
            day=pl.col("ts").first().dt.date(),
        )
    )
    return kept.drop("_first", "_repeat"), redact_frame(dropped, QUARANTINE_TEXT_COLUMNS)


def ingest_file(path: Path, landing_root: Path, config: PlatformConfig, content_hash: str | None = None) -> FileIngest:
    """Read, map, validate and redact one landing file; see the module docstring for the guarantees.

    `content_hash` is the file's `file_sha256` when the caller already computed it (change detection).
    """
    path, landing_root = Path(path), Path(landing_root)
    try:
        source_file = path.relative_to(landing_root).as_posix()
    except ValueError:
        source_file = path.name
    content_hash = content_hash or file_sha256(path)
    ctx = AdapterContext(source_file=source_file, content_hash=content_hash, outcome_rules=config.outcome_rules)
    configured = config.format_for(source_file)

    batches = iter_line_batches(path, config.ingest.max_line_bytes)
    first = next(batches, None)
    fmt: str | None = configured
    reason = None
    if configured == "auto":
        fmt = detect_format(first) if first is not None else None
        if fmt is None:
            reason = f"unknown log format: no adapter ({', '.join(ADAPTER_MODULES)}) recognised the first lines"
    module = adapter_for(fmt) if fmt else None
    if fmt and module is None:
        reason = f"unknown log format: no adapter available for format '{fmt}'"

    lines = skipped = 0
    records: list[pl.DataFrame] = []
    quarantine: list[pl.DataFrame] = []
    for batch in chain([first] if first is not None else [], batches):
        lines += batch.height
        parsed = _parse_batch(batch, module, ctx, reason)
        records.append(parsed.records)
        quarantine.append(parsed.quarantine)
        skipped += parsed.skipped

    record_frame = pl.concat(records) if records else ParsedBatch.empty_records()
    record_frame, repeats = _split_duplicates(record_frame)
    quarantine_frame = pl.concat([*quarantine, repeats]) if quarantine else repeats
    if repeats.height:
        quarantine_frame = quarantine_frame.sort("source_line")

    source_format = fmt if module is not None else (fmt or ("unknown" if lines else "empty"))
    lineage = {"source_file": pl.lit(source_file), "source_format": pl.lit(source_format),
               "content_hash": pl.lit(content_hash)}
    record_frame = record_frame.with_columns(**lineage, day=pl.col("ts").dt.date())
    quarantine_frame = quarantine_frame.select(
        pl.lit(source_file).alias("source_file"), "source_line", "day", "raw", "error",
        pl.lit(source_format).alias("source_format"), pl.lit(content_hash).alias("content_hash"),
    )
    record_lines = record_frame.get_column("source_line").n_unique() if record_frame.height else 0
    stats = {"source_file": source_file, "content_hash": content_hash, "format": source_format, "lines": lines,
             "records": record_lines, "quarantined": quarantine_frame.height, "skipped": skipped}
    if lines != record_lines + quarantine_frame.height + skipped:
        raise AccountingError(f"{source_file}: {lines} lines but {record_lines} records + "
                              f"{quarantine_frame.height} quarantined + {skipped} skipped")
    return FileIngest(records=record_frame, quarantine=quarantine_frame, stats=stats)
