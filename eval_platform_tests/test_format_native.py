"""The native adapter: good lines become canonical rows; every malformed line names its line and field."""

import copy
import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from eval_platform.ingest.formats.base import CANONICAL_SCHEMA, QUARANTINE_SCHEMA, AdapterContext
from eval_platform.ingest.formats.native import looks_like, parse
from eval_platform_tests.adapter_helpers import lines_frame

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "eval_platform" / "ingest" / "native_schema.json"
CTX = AdapterContext(source_file="day/2026-11-20.jsonl", content_hash="c0ffee")
GOOD = {
    "request_id": "req_8f3a", "ts": "2026-11-20T23:45:12.345+02:00", "session_id": "s_12ab", "turn": 2,
    "routing_path": "primary", "served_model": "demo/primary-large", "route_reason": "default",
    "task_type": "qa_with_sources",
    "messages": [
        {"role": "system", "content": "Retrieved documents:\n[1] https://docs.acme.example/billing"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": "How do I get a \"refund\"?"},
    ],
    "response": "See [1].", "status": "ok", "error": None, "latency_ms": 812.5, "cost_usd": 0.00042,
    "usage": {"input_tokens": 812, "output_tokens": 143}, "user_outcome": "resolved", "tags": ["a", "b"],
    "retrieved_sources": ["https://docs.acme.example/billing", "DOC-1042"],
}


def variant(**changes) -> str:
    obj = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is _DROP:
            obj.pop(key)
        else:
            obj[key] = value
    return json.dumps(obj)


_DROP = object()


def frame(*raws: str | None, errors: dict[int, str] | None = None) -> pl.DataFrame:
    return lines_frame(list(raws), errors)


def test_good_line_maps_every_canonical_column():
    batch = parse(frame(json.dumps(GOOD)), CTX)
    assert batch.quarantine.height == 0 and batch.skipped == 0
    assert batch.records.schema == {**CANONICAL_SCHEMA, "source_line": pl.Int64()}
    row = batch.records.row(0, named=True)
    assert row["record_id"] == "req_8f3a"
    assert row["ts"] == datetime(2026, 11, 20, 21, 45, 12, 345000)  # converted to UTC
    assert row["turn"] == 2 and row["status"] == "ok" and row["source_line"] == 1
    assert row["prompt"] == 'How do I get a "refund"?'  # the last user message, unescaped
    assert json.loads(row["messages"]) == GOOD["messages"]
    assert (row["input_tokens"], row["output_tokens"]) == (812, 143)
    assert row["tags"] == ["a", "b"] and row["retrieved_sources"] == GOOD["retrieved_sources"]
    assert row["latency_ms"] == 812.5 and row["user_outcome"] == "resolved"


def test_failed_call_keeps_its_error_text():
    row = parse(frame(variant(status="error", error="RateLimitError: 429", response=None)), CTX).records.row(0, named=True)
    assert (row["status"], row["error"]) == ("error", "RateLimitError: 429")


def test_optional_fields_may_be_absent_or_null():
    raw = variant(request_id=_DROP, route_reason=_DROP, task_type=None, response=None, latency_ms=_DROP,
                  cost_usd=None, usage=_DROP, user_outcome=_DROP, tags=None, retrieved_sources=_DROP, error=_DROP)
    batch = parse(frame(raw, raw), CTX)
    assert batch.quarantine.height == 0
    first, second = batch.records.get_column("record_id").to_list()
    assert len(first) == 32 and first != second  # content hash + line number, so distinct per line
    row = batch.records.row(0, named=True)
    assert row["task_type"] is None and row["input_tokens"] is None and row["tags"] is None


def test_record_id_without_request_id_is_stable():
    raw = variant(request_id=_DROP)
    one = parse(frame(raw), CTX).records.get_column("record_id").item()
    again = parse(frame(raw), CTX).records.get_column("record_id").item()
    other = parse(frame(raw), AdapterContext("x", "other-hash")).records.get_column("record_id").item()
    assert one == again != other


MALFORMED = [
    ('{"request_id": "req_1", "ts": "2026-11-2', "line 1: not valid JSON"),
    ("[1,2]", "line 1: expected a JSON object, got array"),
    ('"x"', 'line 1: expected a JSON object, got string "x"'),
    ("", "line 1: empty line"),
    ("   ", "line 1: empty line"),
    (variant(turn="two"), "line 1: field 'turn': expected integer >= 1, got string \"two\""),
    (variant(turn=0), "line 1: field 'turn': expected integer >= 1, got integer 0"),
    (variant(turn=1.5), "line 1: field 'turn': expected integer >= 1, got number 1.5"),
    (variant(session_id=_DROP), "line 1: field 'session_id': missing"),
    (variant(session_id=""), "line 1: field 'session_id': expected non-empty string, got string \"\""),
    (variant(routing_path=7), "line 1: field 'routing_path': expected non-empty string, got integer 7"),
    (variant(served_model=None), "line 1: field 'served_model': expected non-empty string, got null"),
    (variant(status="maybe"), "line 1: field 'status': expected one of ok, error, got string \"maybe\""),
    (variant(status=_DROP), "line 1: field 'status': missing"),
    (variant(latency_ms=-3), "line 1: field 'latency_ms': expected number >= 0, got integer -3"),
    (variant(cost_usd="cheap"), "line 1: field 'cost_usd': expected number >= 0, got string \"cheap\""),
    (variant(ts="yesterday"), "line 1: field 'ts': expected ISO 8601 timestamp string, got string \"yesterday\""),
    (variant(ts="2026-13-45T00:00:00Z"), "line 1: field 'ts': expected ISO 8601 timestamp string"),
    (variant(ts=1790000000), "line 1: field 'ts': expected ISO 8601 timestamp string, got integer 1790000000"),
    (variant(ts=_DROP), "line 1: field 'ts': missing"),
    (variant(messages=[]), "line 1: field 'messages': expected non-empty array of messages, got array (empty)"),
    (variant(messages="hi"), "line 1: field 'messages': expected non-empty array of messages, got string \"hi\""),
    (variant(messages=_DROP), "line 1: field 'messages': missing"),
    (variant(messages=[{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]),
     "line 1: field 'messages[1].role': expected one of system, user, assistant, tool, got \"bot\""),
    (variant(messages=[3]), "line 1: field 'messages[0].role': expected one of system, user, assistant, tool, got nothing"),
    (variant(messages=[{"role": "user", "content": 5}]), "line 1: field 'messages[0].content': expected string or null, got integer 5"),
    (variant(usage={"input_tokens": -1}), "line 1: field 'usage.input_tokens': expected integer >= 0, got integer -1"),
    (variant(usage=[1]), "line 1: field 'usage': expected object or null, got array"),
    (variant(user_outcome="happy"), "line 1: field 'user_outcome': expected one of resolved, abandoned, escalated or null, got string \"happy\""),
    (variant(tags=["a", 1]), "line 1: field 'tags': expected array of strings, got an array with a non-string element"),
    (variant(retrieved_sources="DOC-1"), "line 1: field 'retrieved_sources': expected array of strings, got string \"DOC-1\""),
    (variant(request_id=42), "line 1: field 'request_id': expected non-empty string or null, got integer 42"),
    (variant(response={"text": "x"}), "line 1: field 'response': expected string or null, got object"),
    (variant(turn=2**40), "line 1: field 'turn': expected integer >= 1, got integer 1099511627776"),
]


@pytest.mark.parametrize(("raw", "expected"), MALFORMED, ids=[m[1][8:60] for m in MALFORMED])
def test_malformed_line_is_quarantined_with_a_precise_error(raw, expected):
    batch = parse(frame(raw), CTX)
    assert batch.records.height == 0
    assert batch.quarantine.schema == QUARANTINE_SCHEMA
    row = batch.quarantine.row(0, named=True)
    assert row["source_line"] == 1 and row["raw"] == raw
    assert row["error"].startswith(expected), row["error"]


def test_all_problems_of_a_line_are_reported():
    error = parse(frame(variant(turn=-1, status="nope", session_id=_DROP)), CTX).quarantine.item(0, "error")
    assert "'session_id': missing" in error and "'turn'" in error and "'status'" in error


def test_day_is_kept_for_quarantined_lines_with_a_valid_ts():
    row = parse(frame(variant(turn="x")), CTX).quarantine.row(0, named=True)
    assert row["day"] == date(2026, 11, 20)


def test_reader_errors_are_quarantined_with_their_message():
    batch = parse(frame(None, json.dumps(GOOD), None, errors={1: "invalid UTF-8 at byte 3", 3: "line is 9 bytes, over max_line_bytes 5"}), CTX)
    assert batch.records.get_column("source_line").to_list() == [2]
    assert batch.quarantine.get_column("error").to_list() == [
        "line 1: invalid UTF-8 at byte 3", "line 3: line is 9 bytes, over max_line_bytes 5"]


def test_mixed_batch_keeps_line_numbers():
    raws = [json.dumps(GOOD), "oops", variant(request_id="r2"), "", variant(request_id="r3", turn="x")]
    batch = parse(frame(*raws), CTX)
    assert batch.records.get_column("source_line").to_list() == [1, 3]
    assert batch.quarantine.get_column("source_line").to_list() == [2, 4, 5]


def test_hostile_values_are_data_not_sql():
    raw = variant(session_id="'; DROP TABLE log_records; --", routing_path="\u001b[31mred")
    row = parse(frame(raw), CTX).records.row(0, named=True)
    assert row["session_id"] == "'; DROP TABLE log_records; --" and row["routing_path"] == "\u001b[31mred"


def test_looks_like():
    assert looks_like(GOOD)
    assert not looks_like({"model_group": "x", "messages": []})
    assert not looks_like({"resourceSpans": []})


def test_sample_lines_validate_against_the_json_schema():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(GOOD))
    assert not list(validator.iter_errors(json.loads(variant(request_id=_DROP, tags=None, usage=None))))


@pytest.mark.parametrize(("raw", "expected"), [m for m in MALFORMED if m[0].strip().startswith("{") and "'ts'" not in m[1]
                                                and "not valid JSON" not in m[1]])
def test_json_schema_rejects_what_the_adapter_rejects(raw, expected):
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    assert list(validator.iter_errors(json.loads(raw))), expected


def test_a_shortened_value_in_an_error_never_ends_in_half_an_email():
    """Redaction runs on the whole error afterwards: a value cut inside an address would escape it."""
    status = "escalate to the on-call engineer at jane.doe@example.com now"  # the cut falls inside the address
    error = parse(frame(variant(status=status)), CTX).quarantine.item(0, "error")
    assert "field 'status'" in error and error.endswith('...')
    assert "jane" not in error
