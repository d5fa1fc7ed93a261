"""Property: arbitrary bytes mixed into a valid native file never crash ingestion and never lose a line."""

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_platform.config import PlatformConfig
from eval_platform.ingest.file_ingest import ingest_file

CONFIG = PlatformConfig(partition_start=date(2026, 11, 1), ingest={"format": "native", "max_line_bytes": 400})


def good_line(i: int) -> bytes:
    return json.dumps({
        "request_id": f"req_{i}", "ts": "2026-11-20T10:00:00Z", "session_id": "s", "turn": 1, "routing_path": "primary",
        "served_model": "m", "messages": [{"role": "user", "content": f"q{i}"}], "status": "ok",
    }).encode()


junk = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")),
    st.text(max_size=40).map(lambda t: t.replace("\n", " ").replace("\r", " ").encode("utf-8")),
    st.sampled_from([b"", b"[1,2]", b'"x"', b"{", b'{"turn": "two"}', b"\xff\xfe", b"x" * 500, b"null", b"{}"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.one_of(st.integers(0, 10_000).map(good_line), junk), min_size=1, max_size=25),
       trailing_newline=st.booleans())
def test_junk_never_crashes_or_loses_lines(tmp_path, parts, trailing_newline):
    path = tmp_path / "mixed.jsonl"
    data = b"\n".join(parts) + (b"\n" if trailing_newline else b"")
    path.write_bytes(data)
    expected_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)

    result = ingest_file(path, tmp_path, CONFIG)
    stats = result.stats
    assert stats["lines"] == expected_lines
    assert stats["lines"] == stats["records"] + stats["quarantined"] + stats["skipped"]
    seen = set(result.records.get_column("source_line")) | set(result.quarantine.get_column("source_line"))
    assert seen == set(range(1, expected_lines + 1))
    assert not set(result.records.get_column("source_line")) & set(result.quarantine.get_column("source_line"))
    for line, error in result.quarantine.select("source_line", "error").iter_rows():
        assert error.startswith(f"line {line}: ")
    good = {i + 1 for i, p in enumerate(data.split(b"\n")) if p.startswith(b'{"request_id": "req_')}
    assert good - set(result.quarantine.get_column("source_line")) <= set(result.records.get_column("source_line"))
