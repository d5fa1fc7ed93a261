"""read_lines: numbering, blank lines, CRLF, gzip, Parquet, undecodable and over-long lines."""

import gzip
import hashlib
import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_platform.ingest.lines import LINE_FRAME_SCHEMA, iter_line_batches, read_lines


def _write(tmp_path, data: bytes, name="f.jsonl"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_numbering_blank_lines_and_trailing_newline(tmp_path):
    frame = read_lines(_write(tmp_path, b'{"a":1}\n\n{"a":2}\n'), 1000)
    assert frame.columns == ["source_line", "raw", "line_error"]
    assert frame.rows() == [(1, '{"a":1}', None), (2, "", None), (3, '{"a":2}', None)]


def test_last_line_without_newline_and_crlf(tmp_path):
    frame = read_lines(_write(tmp_path, b'{"a":1}\r\n{"a":2}'), 1000)
    assert frame.get_column("raw").to_list() == ['{"a":1}', '{"a":2}']


def test_empty_file_has_no_lines(tmp_path):
    frame = read_lines(_write(tmp_path, b""), 1000)
    assert frame.height == 0 and frame.schema["source_line"] == pl.Int64


def test_invalid_utf8_is_an_error_row_not_a_crash(tmp_path):
    frame = read_lines(_write(tmp_path, b'{"a":1}\n{"a":"\xff\xfe"}\n{"a":3}\n'), 1000)
    assert frame.get_column("source_line").to_list() == [1, 2, 3]
    row = frame.row(1, named=True)
    assert row["raw"] is None and row["line_error"] == "invalid UTF-8 at byte 7"
    assert frame.row(2, named=True)["raw"] == '{"a":3}'


def test_over_long_line_is_flagged_with_its_size(tmp_path):
    long_line = b'{"a":"' + b"x" * 200 + b'"}'
    frame = read_lines(_write(tmp_path, b'{"a":1}\n' + long_line + b"\n{}\n"), 100)
    row = frame.row(1, named=True)
    assert row["raw"] is None
    assert row["line_error"] == f"line is {len(long_line)} bytes, over max_line_bytes 100"
    assert frame.get_column("raw").to_list()[2] == "{}"


def test_line_longer_than_a_block_is_skipped_without_losing_neighbours(tmp_path):
    long_line = b"y" * 5000
    path = _write(tmp_path, b"first\n" + long_line + b"\nthird\nfourth")
    batches = list(iter_line_batches(path, max_line_bytes=1000, block_bytes=256))
    frame = pl.concat(batches)
    assert frame.get_column("source_line").to_list() == [1, 2, 3, 4]
    assert frame.get_column("raw").to_list() == ["first", None, "third", "fourth"]
    assert frame.row(1, named=True)["line_error"] == "line is 5000 bytes, over max_line_bytes 1000"


def test_small_blocks_number_lines_across_blocks(tmp_path):
    lines = [json.dumps({"i": i, "pad": "z" * (i % 37)}) for i in range(500)]
    path = _write(tmp_path, ("\n".join(lines) + "\n").encode())
    frame = pl.concat(list(iter_line_batches(path, 10_000, block_bytes=97)))
    assert frame.get_column("raw").to_list() == lines
    assert frame.get_column("source_line").to_list() == list(range(1, 501))


def test_gzip(tmp_path):
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a":1}\n{"a":2}\n'))
    assert read_lines(path, 1000).get_column("raw").to_list() == ['{"a":1}', '{"a":2}']


def test_truncated_gzip_becomes_an_error_row(tmp_path):
    path = tmp_path / "f.jsonl.gz"
    data = gzip.compress(("\n".join(json.dumps({"i": i}) for i in range(2000)) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    frame = read_lines(path, 1000)
    last = frame.row(-1, named=True)
    assert last["raw"] is None and last["line_error"].startswith("unreadable from here on")
    assert frame.get_column("source_line").to_list() == list(range(1, frame.height + 1))
    # the lines decompressed before the cut are kept, not lost with the read that failed
    assert frame.height > 100 and frame.get_column("raw").head(100).to_list() == [json.dumps({"i": i}) for i in range(100)]


def test_parquet_rows_become_json_lines(tmp_path):
    path = tmp_path / "f.parquet"
    pl.DataFrame({"session_id": ["s1", "s2"], "turn": [1, 2]}).write_parquet(path)
    frame = read_lines(path, 1000)
    assert frame.get_column("source_line").to_list() == [1, 2]
    assert [json.loads(r) for r in frame.get_column("raw")] == [{"session_id": "s1", "turn": 1}, {"session_id": "s2", "turn": 2}]


def _reference(data: bytes, max_line_bytes: int) -> list[tuple[int, str | None, str | None]]:
    """What the reader must return: split on "\n", drop one trailing "\r", no line after a final "\n"."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    rows = []
    for number, line in enumerate(parts, start=1):
        line = line[:-1] if line.endswith(b"\r") else line
        problems = set()  # a line both too long and undecodable may be reported for either reason
        if len(line) > max_line_bytes:
            problems.add(f"line is {len(line)} bytes, over max_line_bytes {max_line_bytes}")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(f"invalid UTF-8 at byte {exc.start + 1}")
        rows.append((number, None, problems) if problems else (number, text, None))
    return rows


_LINE_PIECES = st.sampled_from([b"", b"{}", b'{"a":1}', b"x" * 30, b"y" * 70, b"caf\xc3\xa9", b"\xff", b"\r", b" "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(_LINE_PIECES, max_size=4).map(b"".join), max_size=25),
       ending=st.sampled_from([b"", b"\n", b"\r\n"]), block=st.integers(min_value=1, max_value=200))
def test_block_reader_matches_a_plain_split_and_hashes_every_byte(tmp_path, lines, ending, block):
    """Any file, any block size, plain or gzip: the same lines as a plain split, numbered in order, and (plain)
    the file's sha256."""
    data = b"\n".join(lines) + (ending if lines else b"")
    expected = _reference(data, 50)
    plain = _write(tmp_path, data, name="p.jsonl")
    zipped = _write(tmp_path, gzip.compress(data), name="p.jsonl.gz")
    digest = hashlib.sha256()
    for path, hashing in ((plain, digest), (zipped, None)):
        frame = pl.concat([pl.DataFrame(schema=LINE_FRAME_SCHEMA),
                           *iter_line_batches(path, 50, block_bytes=block, digest=hashing)])
        assert frame.height == len(expected), path.name
        for (number, raw, error), (want_number, want_raw, want_errors) in zip(frame.rows(), expected, strict=True):
            assert (number, raw) == (want_number, want_raw), path.name
            assert error is None if want_errors is None else error in want_errors, (path.name, number, error, want_errors)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_unreadable_parquet_becomes_an_error_row_not_a_crash(tmp_path):
    good = tmp_path / "good.parquet"
    pl.DataFrame({"a": list(range(10))}).write_parquet(good)
    for name, data in (("junk.parquet", b"not parquet at all"), ("cut.parquet", good.read_bytes()[:-20])):
        frame = read_lines(_write(tmp_path, data, name=name), 1000)
        assert frame.height == 1 and frame.item(0, "source_line") == 1 and frame.item(0, "raw") is None
        assert frame.item(0, "line_error").startswith("unreadable Parquet from here on: ")
