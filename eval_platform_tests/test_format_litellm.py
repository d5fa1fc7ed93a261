"""The LiteLLM proxy adapter: StandardLoggingPayload lines -> canonical records, quarantine or skip."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from eval_platform.config import OutcomeRules
from eval_platform.ingest.formats import litellm_proxy
from eval_platform.ingest.formats.base import AdapterContext, ParsedBatch
from eval_platform_tests.adapter_helpers import assert_accounting, lines_frame

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_proxy_sample.jsonl"
CTX = AdapterContext(source_file="proxy/2026-11-20/litellm.jsonl", content_hash="0" * 64)


def _parse(
    raws: list[str | None], ctx: AdapterContext = CTX, errors: dict[int, str] | None = None
) -> ParsedBatch:
    batch = litellm_proxy.parse(lines_frame(raws, errors), ctx)
    assert_accounting(batch, len(raws))
    return batch


def _payloads() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def _one(payload: dict, ctx: AdapterContext = CTX) -> dict:
    batch = _parse([json.dumps(payload)], ctx)
    assert batch.quarantine.is_empty(), batch.quarantine["error"].to_list()
    return batch.records.row(0, named=True)


def _error_of(payload: object) -> str:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    batch = _parse([raw])
    assert batch.records.is_empty() and batch.quarantine.height == 1
    return batch.quarantine["error"][0]


def test_fixture_maps_every_canonical_field():
    batch = _parse(FIXTURE.read_text().splitlines())
    assert batch.records.height == 5 and batch.quarantine.is_empty() and batch.skipped == 0
    first = batch.records.row(0, named=True)
    assert first["record_id"] == "0f4c3a52-7d1e-4b8e-9a0c-1c2d3e4f5a01"
    assert first["ts"] == datetime(2026, 11, 20, 12, 0, 0)
    assert (first["session_id"], first["turn"], first["task_type"]) == ("sess-001", 1, "qa_with_sources")
    # served model: the response's model, else `model` (the failed call of line 2 has no response)
    assert (first["routing_path"], first["served_model"], first["route_reason"]) == ("primary", "gpt-4o", "default")
    assert batch.records["served_model"].to_list() == [
        "gpt-4o", "openai/gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "o3-mini"]
    assert first["prompt"] == "How do I request a refund?"
    assert first["response"].startswith("See https://docs.acme.example/billing/refunds")
    assert first["status"] == "ok"
    assert first["latency_ms"] == pytest.approx(812.5)
    assert first["cost_usd"] == pytest.approx(0.00042)
    assert (first["input_tokens"], first["output_tokens"]) == (812, 143)
    assert first["retrieved_sources"] == ["https://docs.acme.example/billing/refunds", "DOC-1042"]
    messages = json.loads(first["messages"])
    assert [m["role"] for m in messages] == ["system", "system", "user"]
    assert messages[1]["content"].startswith("Retrieved documents:")
    assert batch.records["source_line"].to_list() == [1, 2, 3, 4, 5]
    assert batch.records.schema["ts"] == pl.Datetime("us")


@pytest.mark.parametrize("group", ["", None])
def test_a_call_made_without_a_router_takes_its_model_as_the_path(group):
    """litellm SDK callbacks log `model_group: ""` when no Router made the call: the path is the model asked for."""
    payload = copy.deepcopy(_payloads()[0])
    payload["model_group"] = group
    record = _one(payload)
    assert (record["routing_path"], record["served_model"]) == ("openai/gpt-4o", "gpt-4o")


def test_a_present_id_of_the_wrong_type_is_named_as_such():
    error = _error_of(_broken(lambda p: p.update(litellm_call_id=12345, id=None)))
    assert "field 'litellm_call_id': expected a non-empty string, got integer 12345" in error


def test_failed_call_is_a_record_with_status_error():
    batch = _parse(FIXTURE.read_text().splitlines())
    failed = batch.records.row(1, named=True)
    assert failed["status"] == "error" and failed["response"] is None
    assert failed["routing_path"] == "primary" and failed["route_reason"] == "default"
    assert failed["session_id"] == "conv-77"  # conversation_id in requester_metadata
    assert failed["prompt"] == "Reset my password please"  # list-of-parts content joined
    assert failed["latency_ms"] == pytest.approx(92.7, abs=0.01)
    assert litellm_proxy.map_line(_payloads()[1], CTX)["error"].startswith("litellm.RateLimitError")


def test_request_served_by_fallback_is_recognisable():
    """The router logs the serving hop under the fallback group, with x-litellm-attempted-fallbacks = 1."""
    records = _parse(FIXTURE.read_text().splitlines()).records
    failed, served = records.row(1, named=True), records.row(2, named=True)
    assert (served["routing_path"], served["route_reason"], served["status"]) == (
        "fallback",
        "fallback",
        "ok",
    )
    assert served["session_id"] == failed["session_id"]
    assert served["served_model"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p["metadata"].update(attempted_fallbacks=2), "fallback"),  # spend-log shaped metadata
        (lambda p: p.update(attempted_fallbacks=1), "fallback"),
        (lambda p: p["metadata"].update(original_model_group="primary"), "fallback"),
        (
            lambda p: p["hidden_params"].update(additional_headers={"x-litellm-attempted-fallbacks": "1"}),
            "fallback",
        ),
        (lambda p: p["metadata"].update(original_model_group="code"), "default"),  # same group: no fallback
        (
            lambda p: p["hidden_params"].update(additional_headers={"x-litellm-attempted-fallbacks": 0}),
            "default",
        ),
        (
            lambda p: p["metadata"].update(routing_decision={"router_type": "complexity", "tier": "SIMPLE"}),
            "auto_router",
        ),
    ],
)
def test_fallback_signals(change, reason):
    payload = copy.deepcopy(_payloads()[3])  # a plain success on the `code` group
    change(payload)
    assert _one(payload)["route_reason"] == reason


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"session_id": "top", "req": {"session_id": "r"}}, "top"),
        ({"req": {"session_id": "r-s", "conversation_id": "r-c", "thread_id": "r-t"}}, "r-s"),
        ({"req": {"conversation_id": "r-c", "thread_id": "r-t"}}, "r-c"),
        ({"req": {"thread_id": 1234}}, "1234"),
        ({"spend": {"session_id": "spend-s"}}, "spend-s"),
        ({"req": {"conversation_id": "r-c"}, "spend": {"session_id": "spend-s"}}, "r-c"),
        ({}, "trace-xyz"),
    ],
)
def test_session_resolution_order(setup, expected):
    payload = copy.deepcopy(_payloads()[0])
    payload["session_id"] = setup.get("session_id", "")
    payload["trace_id"] = "trace-xyz"
    payload["metadata"]["requester_metadata"] = setup.get("req")
    payload["metadata"]["spend_logs_metadata"] = setup.get("spend")
    assert _one(payload)["session_id"] == expected


def _broken(change) -> dict:
    payload = copy.deepcopy(_payloads()[0])
    change(payload)
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("{not json", "(line)"),
        ("[1, 2, 3]", "(line)"),
        ('"a string"', "(line)"),
        (_broken(lambda p: p.update(model_group=5)), "model_group"),
        (_broken(lambda p: p.update(model_group="", model=None)), "model_group"),
        (_broken(lambda p: p.update(model=None, response={})), "model"),
        (_broken(lambda p: p.update(litellm_call_id=None, id=None)), "litellm_call_id"),
        (_broken(lambda p: p.update(litellm_call_id=12345, id=None)), "litellm_call_id"),
        (_broken(lambda p: p.update(startTime="yesterday")), "startTime"),
        (_broken(lambda p: p.update(startTime=p["startTime"] * 1000, endTime=None)), "startTime"),
        (_broken(lambda p: p.pop("startTime")), "startTime"),
        (_broken(lambda p: p.update(endTime=p["startTime"] - 5)), "endTime"),
        (_broken(lambda p: p.update(status="pending")), "status"),
        (_broken(lambda p: p.update(prompt_tokens="812")), "prompt_tokens"),
        (_broken(lambda p: p.update(completion_tokens=-1)), "completion_tokens"),
        (_broken(lambda p: p.update(response_cost=-0.1)), "response_cost"),
        (_broken(lambda p: p.update(request_tags="a,b")), "request_tags"),
        (_broken(lambda p: p.update(metadata=["x"])), "metadata"),
        (_broken(lambda p: p["metadata"].update(requester_metadata="s1")), "metadata.requester_metadata"),
        (
            _broken(lambda p: p["metadata"]["requester_metadata"].update(turn=0)),
            "metadata.requester_metadata.turn",
        ),
        (
            _broken(lambda p: p["metadata"]["requester_metadata"].update(task_type=3)),
            "metadata.requester_metadata.task_type",
        ),
        (
            _broken(lambda p: p["metadata"]["requester_metadata"].update(retrieved_sources="DOC-1")),
            "metadata.requester_metadata.retrieved_sources",
        ),
        (
            _broken(lambda p: p["metadata"]["requester_metadata"].update(session_id={"id": 1})),
            "metadata.requester_metadata.session_id",
        ),
        (
            _broken(lambda p: p["metadata"]["requester_metadata"].update(user_outcome="happy")),
            "metadata.requester_metadata.user_outcome",
        ),
        (_broken(lambda p: p.update(messages=5)), "messages"),
        (_broken(lambda p: p.update(messages=[])), "messages"),
        (_broken(lambda p: p.update(messages=None)), "messages"),
        (_broken(lambda p: p.update(messages=["hello"])), "messages[0]"),
        (_broken(lambda p: p.update(messages=[{"content": "no role"}])), "messages[0].role"),
        (_broken(lambda p: p.update(messages=[{"role": "user", "content": 7}])), "messages[0].content"),
        (
            _broken(
                lambda p: p.update(messages=[{"role": "user", "content": [{"type": "text", "text": 3}]}])
            ),
            "messages[0].content[0].text",
        ),
        (_broken(lambda p: p.update(response={"choices": "nope"})), "response.choices"),
        (_broken(lambda p: p.update(response=[1])), "response"),
    ],
)
def test_malformed_line_is_quarantined_naming_the_field(payload, field):
    error = _error_of(payload)
    assert error.startswith("line 1: ")
    assert f"field '{field}'" in error


def test_reader_errors_and_blank_lines_are_quarantined_with_good_lines_kept():
    good = FIXTURE.read_text().splitlines()
    raws = [good[0], None, "", good[1], "x" * 10, good[2]]
    batch = _parse(raws, errors={2: "invalid UTF-8 at byte 7", 5: "line is 10 bytes, over max_line_bytes 5"})
    assert batch.records["source_line"].to_list() == [1, 4, 6]
    errors = dict(zip(batch.quarantine["source_line"], batch.quarantine["error"], strict=True))
    assert errors[2] == "line 2: invalid UTF-8 at byte 7"
    assert errors[5].startswith("line 5: line is 10 bytes")
    assert "empty line" in errors[3]
    assert batch.quarantine.schema == ParsedBatch.empty_quarantine().schema


@pytest.mark.parametrize(
    ("messages", "expected", "prompt"),
    [
        ("redacted-by-litellm", [{"role": "user", "content": "redacted-by-litellm"}], "redacted-by-litellm"),
        ({"role": "user", "content": "one"}, [{"role": "user", "content": "one"}], "one"),
        (
            {"messages": [{"role": "user", "content": "wrapped"}]},
            [{"role": "user", "content": "wrapped"}],
            "wrapped",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "a"},
                        {"type": "image_url", "image_url": {}},
                        "b",
                    ],
                },
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}], "audio": None},
                {"role": "tool", "content": "42", "tool_call_id": "c1", "name": 7},
            ],
            [  # a replayed conversation keeps the tool call its tool message answers; other keys go
                {"role": "user", "content": "a\nb"},
                {"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]},
                {"role": "tool", "content": "42", "tool_call_id": "c1"},
            ],
            "a\nb",
        ),
        (
            [{"role": "system", "content": "only system"}],
            [{"role": "system", "content": "only system"}],
            None,
        ),
    ],
)
def test_message_shapes_are_normalised(messages, expected, prompt):
    payload = copy.deepcopy(_payloads()[0])
    payload["messages"] = messages
    record = _one(payload)
    assert json.loads(record["messages"]) == expected
    assert record["prompt"] == prompt


@pytest.mark.parametrize(
    ("response", "text"),
    [
        ({"choices": [{"index": 0, "text": "completion text"}]}, "completion text"),
        (
            {
                "output": [
                    {"type": "reasoning"},
                    {"type": "message", "content": [{"type": "output_text", "text": "resp api"}]},
                ]
            },
            "resp api",
        ),
        ({"choices": []}, None),
        ("plain string", "plain string"),
    ],
)
def test_response_shapes(response, text):
    payload = copy.deepcopy(_payloads()[0])
    payload["response"] = response
    assert _one(payload)["response"] == text


def test_latency_falls_back_to_response_time():
    payload = copy.deepcopy(_payloads()[0])
    payload["endTime"] = None
    payload["response_time"] = 1.5
    assert _one(payload)["latency_ms"] == pytest.approx(1500.0)


def test_outcome_from_configured_metadata_keys_then_tags():
    payload = copy.deepcopy(_payloads()[0])
    payload["metadata"]["requester_metadata"]["resolution"] = "Escalated"
    payload["request_tags"] = ["outcome:abandoned"]
    assert _one(payload)["user_outcome"] == "abandoned"  # default rules: `resolution` is not a key
    custom = AdapterContext("f", "h", OutcomeRules(metadata_keys=["resolution"]))
    assert _one(payload, custom)["user_outcome"] == "escalated"
    payload["request_tags"] = ["human_handoff", "abandoned"]
    assert _one(payload)["user_outcome"] == "escalated"
    payload["request_tags"] = []
    assert _one(payload)["user_outcome"] is None


def test_looks_like_tells_litellm_from_other_formats():
    assert all(litellm_proxy.looks_like(p) for p in _payloads())
    assert not litellm_proxy.looks_like({"request_id": "r", "ts": "2026-11-20T00:00:00Z", "messages": []})
    assert not litellm_proxy.looks_like({"resourceSpans": []})
    assert not litellm_proxy.looks_like({"name": "chat", "trace_id": "t", "attributes": {}})


def test_shortened_values_in_errors_never_end_in_half_an_email():
    from eval_platform.ingest.formats.base import clip

    text = '["escalate to the on-call engineer at jane.doe@example.com now"]'
    assert clip(text, 60) == '["escalate to the on-call engineer at ...'
    assert clip("short", 60) == "short"
    tags = ["escalation", "please forward this ticket to the on-call engineer jane.doe@example.com now"]
    error = _error_of(_broken(lambda p: p.update(request_tags=tags + [7])))  # not all strings: shown, cut at 80
    assert "field 'request_tags'" in error and "jane" not in error and error.endswith("...")
