"""Read a log file as numbered lines, fast, without ever losing or crashing on one.

A file becomes frames of `source_line` (Int64, 1-based physical line), `raw` (String, null when the line
could not be used) and `line_error` (null when fine). JSONL (.jsonl/.json/.ndjson, optionally .gz) is read
in blocks of whole lines, each block split by polars' native line reader; only a block that polars rejects
(invalid UTF-8) is split in Python, so one bad byte never slows the rest of the file. Parquet rows become
one JSON object per row. A trailing newline at EOF is not a line; a blank line in the middle is (adapters
quarantine it). A trailing `\\r` (CRLF files) is dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import polars as pl

LINE_FRAME_SCHEMA: dict[str, pl.DataType] = {"source_line": pl.Int64(), "raw": pl.String(), "line_error": pl.String()}
BLOCK_BYTES = 256 << 20  # bytes per block: bounds memory per adapter call; large enough to amortise query planning
PARQUET_BATCH_ROWS = 50_000


def read_lines(path: Path, max_line_bytes: int) -> pl.DataFrame:
    """The whole file as one line frame (see `iter_line_batches` for the streaming form)."""
    batches = list(iter_line_batches(path, max_line_bytes))
    return pl.concat(batches) if batches else pl.DataFrame(schema=LINE_FRAME_SCHEMA)


def hashes_while_reading(path: Path) -> bool:
    """Whether `iter_line_batches(..., digest=...)` sees the file's own bytes (plain text, not gzip or Parquet)."""
    return Path(path).suffix.lower() not in (".gz", ".parquet")


def iter_line_batches(path: Path, max_line_bytes: int, block_bytes: int = BLOCK_BYTES,
                      digest: hashlib._Hash | None = None) -> Iterator[pl.DataFrame]:
    """Yield consecutive line frames of about `block_bytes` each, numbered across the whole file.

    `digest` (plain text files only, see `hashes_while_reading`) is updated with every byte read, so a caller
    gets the file's hash without a second pass.
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        yield from _parquet_batches(path, max_line_bytes)
        return
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rb") as handle:
            yield from _text_batches(handle, max_line_bytes, block_bytes)
        return
    with open(path, "rb", buffering=0) as handle:
        yield from _file_batches(handle, max_line_bytes, block_bytes, digest)


def _text_batches(handle: BinaryIO, max_line_bytes: int, block_bytes: int) -> Iterator[pl.DataFrame]:
    next_line = 1
    carry = b""
    while True:
        chunk, failure = _read_until_failure(handle, block_bytes)
        if not chunk and failure is None:
            if carry:  # last line without a trailing newline
                yield _block_frame(carry + b"\n", next_line, max_line_bytes)
            return
        cut = chunk.rfind(b"\n")
        if cut >= 0:  # common case: one copy joins the carried partial line with this chunk's whole lines
            whole = memoryview(chunk)[: cut + 1]  # a view: no intermediate copy of the slice
            block = b"".join((carry, whole)) if carry else (chunk if cut + 1 == len(chunk) else bytes(whole))
            carry = chunk[cut + 1 :]
            frame = _block_frame(block, next_line, max_line_bytes)
            next_line += frame.height
            yield frame
        else:
            carry += chunk  # no newline in this chunk: the line continues
        if failure is not None:  # corrupt or truncated gzip: the lines before it are kept, the rest is one row
            yield _error_frame(next_line, f"unreadable from here on: {type(failure).__name__}: {failure}")
            return
        # a line longer than allowed: skip the rest of it without holding it
        if cut < 0 and len(carry) - carry.endswith(b"\r") > max_line_bytes:
            try:
                size, rest = _skip_long_line(handle, len(carry), carry[-1:], block_bytes)
            except (OSError, EOFError, zlib.error) as exc:
                yield _error_frame(next_line, f"unreadable from here on: {type(exc).__name__}: {exc}")
                return
            yield _error_frame(next_line, _too_long(size, max_line_bytes))
            next_line += 1
            cut = rest.rfind(b"\n")
            if cut >= 0:  # whole lines read past the long one
                frame = _block_frame(rest[: cut + 1], next_line, max_line_bytes)
                next_line += frame.height
                yield frame
            carry = rest[cut + 1 :]


def _read_until_failure(handle: BinaryIO, size: int, piece: int = 4 << 20) -> tuple[bytes, Exception | None]:
    """Up to `size` bytes read in pieces, and the error that stopped the reading early (None at EOF or
    `size`): what a truncated gzip gave before failing is kept instead of lost with the failed read."""
    read = getattr(handle, "read1", handle.read)  # read1: one underlying read, so a failure loses nothing read
    parts: list[bytes] = []
    got = 0
    try:
        while got < size and (part := read(min(piece, size - got))):
            parts.append(part)
            got += len(part)
    except (OSError, EOFError, zlib.error) as exc:
        return b"".join(parts), exc
    return (parts[0] if len(parts) == 1 else b"".join(parts)), None


def _file_batches(handle: BinaryIO, max_line_bytes: int, block_bytes: int,
                  digest: hashlib._Hash | None) -> Iterator[pl.DataFrame]:
    """Blocks of a plain (seekable) file, each read into one reused buffer.

    A block ends at its last newline; the partial line after it is read again at the start of the next
    block (a seek back) instead of being joined to it, so a block's bytes are copied once, into the `bytes`
    polars splits. The buffer holds at least one line of `max_line_bytes`, so a block without a newline is
    a line over the limit, skipped without being held. `digest` sees every byte once, in order.
    """
    buffer = bytearray(max(block_bytes, max_line_bytes + 2))  # + "\r\n"
    view = memoryview(buffer)
    next_line = 1
    while True:
        try:
            size = handle.readinto(buffer)
        except OSError as exc:
            yield _error_frame(next_line, f"unreadable from here on: {type(exc).__name__}: {exc}")
            return
        if not size:
            return
        cut = buffer.rfind(b"\n", 0, size)
        if cut < 0 and size == len(buffer):  # no newline in a full buffer: longer than max_line_bytes
            long_size = _skip_to_newline(handle, view[:size], digest)
            yield _error_frame(next_line, _too_long(long_size, max_line_bytes))
            next_line += 1
            continue
        # a chunk without a newline that did not fill the buffer is the last line, unterminated
        used = size if cut < 0 else cut + 1
        if digest:
            digest.update(view[:used])
        if used < size:
            handle.seek(used - size, os.SEEK_CUR)
        block = bytes(view[:used]) if cut >= 0 else bytes(view[:used]) + b"\n"
        frame = _block_frame(block, next_line, max_line_bytes)
        next_line += frame.height
        yield frame


def _skip_to_newline(handle: BinaryIO, head: memoryview, digest: hashlib._Hash | None) -> int:
    """Read past a line whose first bytes are `head`; leave the handle after its newline. Returns its size
    without the line ending (a trailing "\r" is part of the ending, as in every other line)."""
    if digest:
        digest.update(head)
    size = len(head)
    previous = head[-1:].tobytes()
    while chunk := handle.read(len(head)):
        cut = chunk.find(b"\n")
        if cut >= 0:
            if digest:
                digest.update(chunk[: cut + 1])
            handle.seek(cut + 1 - len(chunk), os.SEEK_CUR)
            ends_cr = (chunk[cut - 1 : cut] if cut else previous) == b"\r"
            return size + cut - (1 if ends_cr else 0)
        if digest:
            digest.update(chunk)
        size += len(chunk)
        previous = chunk[-1:]
    return size - (1 if previous == b"\r" else 0)  # the file's last line, unterminated: same as a "\r\n" end


def _skip_long_line(handle: BinaryIO, seen: int, last: bytes, block_bytes: int) -> tuple[int, bytes]:
    """Read past the rest of an over-long line of which `seen` bytes (ending with `last`) were read; return
    its size without the line ending and the bytes read after its newline."""
    size, previous = seen, last
    while chunk := handle.read(block_bytes):
        cut = chunk.find(b"\n")
        if cut >= 0:
            ends_cr = (chunk[cut - 1 : cut] if cut else previous) == b"\r"
            return size + cut - ends_cr, chunk[cut + 1 :]
        size += len(chunk)
        previous = chunk[-1:]
    return size - (previous == b"\r"), b""  # the file's last line, unterminated


def _block_frame(block: bytes, first_line: int, max_line_bytes: int) -> pl.DataFrame:
    """Lines of a block that ends with a newline; fast path through polars, Python only if polars rejects it."""
    try:
        frame = pl.read_lines(block, name="raw", row_index_name="source_line", row_index_offset=first_line)
        if frame.height != block.count(b"\n"):  # never trust a splitter that disagrees with "\n" counting
            raise ValueError("line count mismatch")
    except (pl.exceptions.PolarsError, ValueError):
        frame = _python_block(block, first_line)
    else:
        frame = frame.select(pl.col("source_line").cast(pl.Int64), "raw", line_error=pl.lit(None, pl.String))
    return _flag_long_lines(frame, max_line_bytes)


def _python_block(block: bytes, first_line: int) -> pl.DataFrame:
    """The slow path for a block with undecodable bytes: each bad line becomes an error row."""
    raws: list[str | None] = []
    errors: list[str | None] = []
    for line in block.split(b"\n")[:-1]:
        line = line[:-1] if line.endswith(b"\r") else line
        try:
            raws.append(line.decode("utf-8"))
            errors.append(None)
        except UnicodeDecodeError as exc:
            raws.append(None)
            errors.append(f"invalid UTF-8 at byte {exc.start + 1}")
    return pl.DataFrame(
        {"source_line": pl.int_range(first_line, first_line + len(raws), eager=True), "raw": raws, "line_error": errors},
        schema=LINE_FRAME_SCHEMA,
    )


def _flag_long_lines(frame: pl.DataFrame, max_line_bytes: int) -> pl.DataFrame:
    size = pl.col("raw").str.len_bytes()
    too_long = size > max_line_bytes
    if not frame.select(too_long.any()).item():
        return frame
    message = pl.format("line is {} bytes, over max_line_bytes {}", size, pl.lit(max_line_bytes))
    return frame.with_columns(
        raw=pl.when(too_long).then(None).otherwise(pl.col("raw")),
        line_error=pl.when(too_long).then(message).otherwise(pl.col("line_error")),
    )


def _too_long(size: int, max_line_bytes: int) -> str:
    return f"line is {size} bytes, over max_line_bytes {max_line_bytes}"


def _error_frame(line: int, error: str) -> pl.DataFrame:
    return pl.DataFrame({"source_line": [line], "raw": [None], "line_error": [error]}, schema=LINE_FRAME_SCHEMA)


def _parquet_batches(path: Path, max_line_bytes: int) -> Iterator[pl.DataFrame]:
    """Each Parquet row becomes one JSON object "line", numbered by row (1-based), read batch by batch.

    A file that is not readable Parquet, or stops being readable midway, ends with one error row (like a
    truncated gzip): the rows before it are kept, and the run goes on.
    """
    import pyarrow.parquet as pq

    first = 1
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            rows = pl.from_arrow(batch)
            frame = rows.select(
                source_line=pl.int_range(first, first + rows.height, dtype=pl.Int64),
                raw=pl.struct(pl.all()).struct.json_encode(),
                line_error=pl.lit(None, pl.String),
            )
            first += rows.height
            yield _flag_long_lines(frame, max_line_bytes)
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        yield _error_frame(first, f"unreadable Parquet from here on: {type(exc).__name__}: {exc}")
