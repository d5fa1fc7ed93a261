"""Ingest one landing file: read its lines, map them with the file's format adapter, redact, account.

`ingest_file` is pure (no Dagster, no warehouse). Every line ends up in exactly one place: a canonical
record, a quarantine row (with the line number and the reason) or the skipped count, and the function
refuses to return if `lines != records + quarantined + skipped`. The file is read in blocks that flow through
three overlapping stages (read + PII scan, map, redact), so memory holds the redacted records plus at most
three blocks of raw lines, not the whole raw file. A file not hashed by the caller is hashed as it is read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import polars as pl

from eval_platform.config import PlatformConfig
from eval_platform.ingest.detect import ADAPTERS, detect_format
from eval_platform.ingest.formats.base import CANONICAL_SCHEMA, QUARANTINE_SCHEMA, AdapterContext, ParsedBatch
from eval_platform.ingest.formats.native import fallback_record_ids
from eval_platform.ingest.lines import hashes_while_reading, iter_line_batches
from eval_platform.ingest.redact import RAW_HINT, redact_frame

# every free-text column of a record (an error message or a tag can carry an e-mail as well as a prompt can)
RECORD_TEXT_COLUMNS = ("messages", "prompt", "response", "error", "route_reason", "task_type", "tags",
                       "retrieved_sources")
RECORD_ID_COLUMNS = ("session_id",)  # pseudonymised: redacted, but distinct ids stay distinct
QUARANTINE_TEXT_COLUMNS = ("raw", "error")


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


def _whole_batch_quarantine(lines: pl.DataFrame, reason: str) -> pl.DataFrame:
    return lines.select(
        "source_line",
        raw="raw",
        error=pl.format("line {}: {}", "source_line", pl.coalesce("line_error", pl.lit(reason))),
        day=pl.lit(None, pl.Date),
    )


def _pii_lines(lines: pl.DataFrame) -> pl.Series:
    """`source_line` of the lines whose raw text may hold PII: one scan instead of one per text column."""
    return lines.filter(pl.col("raw").str.contains(RAW_HINT)).get_column("source_line")


def _map_batch(lines: pl.DataFrame, module, ctx: AdapterContext, reason: str | None) -> ParsedBatch:
    """Map a batch with the file's adapter (which quarantines the lines the reader could not use, with the
    reader's reason), or quarantine it whole when the file has no format. Not redacted."""
    if module is None:
        return ParsedBatch(ParsedBatch.empty_records(), _whole_batch_quarantine(lines, reason or "unknown log format"))
    parsed = module.parse(lines.select("source_line", "raw", "line_error"), ctx)
    quarantine = parsed.quarantine.select(pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items())
    records = parsed.records.select(
        *(pl.col(c).cast(t) for c, t in CANONICAL_SCHEMA.items()), pl.col("source_line").cast(pl.Int64)
    )
    return ParsedBatch(records, quarantine, parsed.skipped)


def _redact_batch(parsed: ParsedBatch, hinted: pl.Series) -> ParsedBatch:
    """Redact a mapped batch; `hinted` is `_pii_lines` of its lines (a record's text comes from its line)."""
    candidates = parsed.records.get_column("source_line").is_in(hinted.implode())
    return ParsedBatch(redact_frame(parsed.records, RECORD_TEXT_COLUMNS, candidates, RECORD_ID_COLUMNS),
                       redact_frame(parsed.quarantine, QUARANTINE_TEXT_COLUMNS), parsed.skipped)


def _ahead(items: Iterator, work) -> Iterator:
    """Yield `work(item)` for each item, computing the next one in a thread while the caller uses this one.

    Chained stages (read, map, redact) then overlap: file reads, polars and DuckDB all release the GIL.
    """
    def step():
        item = next(items, None)
        return None if item is None else work(item)

    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(step)
        while (result := pending.result()) is not None:
            pending = worker.submit(step)
            yield result


def _fill_record_ids(records: pl.DataFrame, content_hash: str) -> pl.DataFrame:
    """Give the records an adapter left without record_id (file not hashed yet) their hash-derived one."""
    rows = records.get_column("record_id").is_null().arg_true()
    if rows.len() == 0:
        return records
    ids = fallback_record_ids(content_hash, records.get_column("source_line").gather(rows))
    return records.with_columns(records.get_column("record_id").clone().scatter(rows, ids))


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

    `content_hash` is the file's `file_sha256` when the caller already computed it (change detection);
    without it a plain-text file is hashed while it is read (one pass over the bytes instead of two).
    """
    path, landing_root = Path(path), Path(landing_root)
    try:
        source_file = path.relative_to(landing_root).as_posix()
    except ValueError:
        source_file = path.name
    digest = hashlib.sha256() if not content_hash and hashes_while_reading(path) else None
    content_hash = content_hash or ("" if digest else file_sha256(path))
    # an empty hash: adapters leave hash-derived record_ids null, filled in below once the file is read
    ctx = AdapterContext(source_file=source_file, content_hash=content_hash, outcome_rules=config.outcome_rules)
    configured = config.format_for(source_file)

    batches = iter_line_batches(path, config.ingest.max_line_bytes, digest=digest)
    first = next(batches, None)
    fmt: str | None = configured
    reason = None
    if configured == "auto":
        fmt = detect_format(first) if first is not None else None
        if fmt is None:
            reason = f"unknown log format: no adapter ({', '.join(ADAPTERS)}) recognised the first lines"
    module = ADAPTERS[fmt] if fmt else None  # a configured format is one of ADAPTERS (config.LogFormat)

    lines = skipped = 0
    records: list[pl.DataFrame] = []
    quarantine: list[pl.DataFrame] = []
    # three stages in flight: read and PII-scan block n+2, map block n+1, redact block n
    read = _ahead(chain([first] if first is not None else [], batches), lambda batch: (batch, _pii_lines(batch)))
    mapped = _ahead(read, lambda item: (item[0].height, _map_batch(item[0], module, ctx, reason), item[1]))
    for height, unredacted, hinted in mapped:
        lines += height
        parsed = _redact_batch(unredacted, hinted)
        records.append(parsed.records)
        quarantine.append(parsed.quarantine)
        skipped += parsed.skipped

    record_frame = pl.concat(records) if records else ParsedBatch.empty_records()
    if digest:
        # the hash of the bytes actually ingested: if the file was cut short or grew while being read, the
        # next run sees a different hash and reads it again (hashing the file now would hide the difference)
        content_hash = digest.hexdigest()
        record_frame = _fill_record_ids(record_frame, content_hash)
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
