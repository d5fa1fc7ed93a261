"""Properties: arbitrary bytes mixed into a valid native file, and any JSON value put anywhere in a real
LiteLLM payload or OTel span, never crash ingestion and never lose a line."""

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_platform.config import PlatformConfig
from eval_platform.ingest.file_ingest import ingest_file
from eval_platform.ingest.formats import litellm_proxy, otel
from eval_platform.ingest.formats.base import AdapterContext
from eval_platform_tests.adapter_helpers import assert_accounting, lines_frame

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
    # every valid line lands: its request id's first line is a record, a repeat is quarantined as one
    first_line: dict[bytes, int] = {}
    for number, part in enumerate(data.split(b"\n"), start=1):
        if part.startswith(b'{"request_id": "req_'):
            first_line.setdefault(part, number)
    errors = dict(result.quarantine.select("source_line", "error").iter_rows())
    records = set(result.records.get_column("source_line"))
    for number, part in enumerate(data.split(b"\n"), start=1):
        if part.startswith(b'{"request_id": "req_'):
            if first_line[part] == number:
                assert number in records, (number, errors.get(number))
            else:
                assert "duplicate of" in errors[number]


FIXTURES = Path(__file__).parent / "fixtures"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _node_paths(node, prefix=()):
    """Every place in a JSON document a value can be put: each key or index, at every depth."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _node_paths(child, (*prefix, key))


def _replace(doc, path, value):
    if not path:
        return value
    *parents, last = path
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value
    return doc


@pytest.mark.parametrize("module, fixture", [
    (litellm_proxy, "litellm_proxy_sample.jsonl"), (otel, "otel_spans_current.jsonl"),
    (otel, "otel_spans_legacy.jsonl"), (otel, "otel_otlp_export.jsonl"),
])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_value_anywhere_in_a_real_line_is_mapped_or_quarantined(module, fixture, data):
    lines = (FIXTURES / fixture).read_text().splitlines()
    doc = json.loads(data.draw(st.sampled_from(lines)))
    path = data.draw(st.sampled_from(list(_node_paths(doc))))
    raw = json.dumps(_replace(doc, path, data.draw(json_values)))
    batch = module.parse(lines_frame([raw, lines[0]]), AdapterContext(source_file="f.jsonl", content_hash="0" * 64))
    assert_accounting(batch, 2)
    for line, error in batch.quarantine.select("source_line", "error").iter_rows():
        assert error.startswith(f"line {line}: ")
