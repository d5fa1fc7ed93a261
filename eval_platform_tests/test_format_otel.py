"""The OpenTelemetry GenAI adapter: flattened spans and OTLP/JSON exports -> records, quarantine or skip."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest

from eval_platform.ingest.formats import otel
from eval_platform.ingest.formats.base import AdapterContext, ParsedBatch
from eval_platform_tests.adapter_helpers import assert_accounting, lines_frame

FIXTURES = Path(__file__).parent / "fixtures"
CTX = AdapterContext(source_file="otel/2026-11-20/spans.jsonl", content_hash="0" * 64)
T0 = 1795176000 * 10**9  # 2026-11-20T12:00:00Z


def _parse(raws: list[str | None], errors: dict[int, str] | None = None) -> ParsedBatch:
    batch = otel.parse(lines_frame(raws, errors), CTX)
    assert_accounting(batch, len(raws))
    return batch


def _fixture(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def _span(**attrs) -> dict:
    """A minimal valid chat span in the current conventions, with attributes overridden."""
    base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "demo/primary-large",
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}],
        "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}],
    }
    base.update(attrs)
    return {
        "name": "chat demo/primary-large",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
        "start_time": T0,
        "end_time": T0 + 250_000_000,
        "attributes": {k: v for k, v in base.items() if v is not None},
        "status": {"code": 0},
    }


def _one(span: dict) -> dict:
    batch = _parse([json.dumps(span)])
    assert batch.quarantine.is_empty(), batch.quarantine["error"].to_list()
    assert batch.records.height == 1
    return batch.records.row(0, named=True)


def _error_of(raw: object) -> str:
    batch = _parse([raw if isinstance(raw, str) else json.dumps(raw)])
    assert batch.records.is_empty() and batch.quarantine.height == 1
    return batch.quarantine["error"][0]


def test_current_conventions_and_skipped_tool_agent_http_spans():
    batch = _parse(_fixture("otel_spans_current.jsonl"))
    assert batch.records["source_line"].to_list() == [1, 2, 3]
    assert batch.skipped == 3 and batch.quarantine.is_empty()
    first, second, failed = (batch.records.row(i, named=True) for i in range(3))
    assert first["record_id"] == "chatcmpl-A1b2C3"
    assert first["ts"] == datetime(2026, 11, 20, 12, 0, 0, 1000)
    assert first["latency_ms"] == pytest.approx(812.5)
    assert (first["session_id"], first["routing_path"], first["route_reason"]) == (
        "conv-42",
        "primary",
        "default",
    )
    assert first["served_model"] == "demo/primary-large-2026-10"
    assert (first["input_tokens"], first["output_tokens"]) == (812, 143)
    assert first["task_type"] == "qa_with_sources"
    assert first["retrieved_sources"] == ["https://docs.acme.example/billing/refunds", "DOC-1042"]
    messages = json.loads(first["messages"])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "user"]
    assert messages[3]["content"] == "DOC-1042: refunds within 30 days"
    assert first["prompt"] == "And for annual plans?"
    assert first["response"] == "Annual plans are refunded pro rata [DOC-1042]."
    # messages recorded as JSON strings, session.id, llm.routing_path, escalation tag
    assert (second["session_id"], second["routing_path"], second["served_model"]) == (
        "sess-9",
        "code",
        "claude-sonnet-4-5",
    )
    assert second["record_id"] == "b7ad6b7169203331" and second["prompt"] == "Write add() in Python"
    assert second["user_outcome"] == "escalated"
    # a failed span is a record with status error
    assert (failed["status"], failed["response"], failed["routing_path"]) == (
        "error",
        None,
        "demo/primary-large",
    )
    assert failed["latency_ms"] == pytest.approx(30_000)
    assert (
        otel.map_line(json.loads(_fixture("otel_spans_current.jsonl")[2]), CTX)[0]["error"]
        == "RateLimitError: rate limited"
    )


def test_pre_1_37_attribute_names_and_events():
    batch = _parse(_fixture("otel_spans_legacy.jsonl"))
    assert batch.records.height == 3 and batch.skipped == 0
    indexed, azure, oldest = (batch.records.row(i, named=True) for i in range(3))
    # openllmetry: llm.request.type, gen_ai.prompt.N.*, prompt/completion tokens, SDK to_json shape
    assert indexed["record_id"] == "1f2e3d4c5b6a7988"  # "0x" prefix dropped
    assert indexed["ts"] == datetime(2026, 11, 20, 12, 5) and indexed["latency_ms"] == pytest.approx(1250)
    assert json.loads(indexed["messages"]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert (indexed["response"], indexed["input_tokens"], indexed["output_tokens"]) == ("Paris.", 25, 9)
    assert indexed["session_id"] == "legacy-sess-1"
    # span events with gen_ai.event.content bodies
    assert azure["prompt"] == "Tell me a joke" and azure["response"] == "Why did the GPU cross the road?"
    assert azure["session_id"] == "8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b"  # trace id: no conversation id
    # gen_ai.content.prompt / completion events, inference recognised by span name
    assert (oldest["prompt"], oldest["response"]) == ("Say hello", "Hello!")


def test_otlp_export_lines_mixed_spans():
    batch = _parse(_fixture("otel_otlp_export.jsonl"))
    assert batch.records["source_line"].to_list() == [1, 1, 3]  # both chat spans of line 1 keep its number
    assert batch.skipped == 1  # line 2: tool and embeddings spans only
    agent_1, agent_2, failed = (batch.records.row(i, named=True) for i in range(3))
    assert (agent_1["record_id"], agent_2["record_id"]) == ("chatcmpl-otlp-1", "chatcmpl-otlp-2")
    assert agent_1["response"] is None  # the model answered with a tool call only
    assert agent_2["response"] == "It ships tomorrow." and agent_2["input_tokens"] == 130
    assert (failed["status"], failed["routing_path"]) == (
        "error",
        "reasoning",
    )  # routing.path on the resource


def test_a_model_call_takes_the_session_its_trace_carries_elsewhere_in_the_export():
    """Apps often set session.id on the agent span only: its chat spans (same trace, same line) share it;
    another trace in the line does not."""
    export = json.loads(_fixture("otel_otlp_export.jsonl")[0])
    spans = export["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for span in spans:
        span["attributes"] = [a for a in span["attributes"] if a["key"] != "gen_ai.conversation.id"]
    spans[0]["attributes"].append({"key": "session.id", "value": {"stringValue": "sess-agent"}})
    spans[-1]["traceId"] = "ffffffffffffffffffffffffffffffff"  # a chat span of another trace
    sessions = [r["session_id"] for r in _parse([json.dumps(export)]).records.iter_rows(named=True)]
    assert sessions[:-1] == ["sess-agent"] * (len(sessions) - 1)
    assert sessions[-1] == "ffffffffffffffffffffffffffffffff"


@pytest.mark.parametrize(
    ("span_id", "expected"),
    [("b7ad6b7169203331", "b7ad6b7169203331"), ("0xB7AD6B7169203331", "b7ad6b7169203331"),
     ("t61rcWkgMzE=", "b7ad6b7169203331"), ("custom-id-7", "custom-id-7")],
)
def test_span_ids_are_one_hex_form_however_exported(span_id, expected):
    span = _span()
    span.pop("span_id", None)
    span["spanId"] = span_id
    assert _one(span)["record_id"] == expected


def test_one_malformed_inference_span_quarantines_its_whole_otlp_line():
    export = json.loads(_fixture("otel_otlp_export.jsonl")[0])
    spans = export["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[3]["attributes"] = [kv for kv in spans[3]["attributes"] if kv["key"] != "gen_ai.request.model"]
    batch = _parse([json.dumps(export), _fixture("otel_otlp_export.jsonl")[1]])
    assert batch.records.is_empty() and batch.skipped == 1
    error = batch.quarantine["error"][0]
    assert error.startswith("line 1: field 'resourceSpans[0].scopeSpans[0].spans[3].gen_ai.request.model'")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name": "chat", ', "(line)"),
        ("[1, 2]", "(line)"),
        ("null", "(line)"),
        (_span(**{"gen_ai.request.model": None}), "gen_ai.request.model"),
        (_span(**{"gen_ai.request.model": 42}), "gen_ai.request.model"),
        ({**_span(), "start_time": T0 // 10**9}, "start_time"),  # seconds, not nanoseconds
        ({**_span(), "start_time": "soon"}, "start_time"),
        ({**_span(), "start_time": None}, "startTimeUnixNano"),
        ({**_span(), "end_time": T0 - 1}, "end_time"),
        (_span(**{"gen_ai.usage.input_tokens": "many"}), "gen_ai.usage.input_tokens"),
        (_span(**{"gen_ai.usage.output_tokens": -3}), "gen_ai.usage.output_tokens"),
        (_span(**{"gen_ai.operation.name": ["chat"]}), "gen_ai.operation.name"),
        (_span(**{"gen_ai.input.messages": {"role": "user", "content": "hi"}}), "gen_ai.input.messages"),
        (_span(**{"gen_ai.input.messages": "[oops"}), "gen_ai.input.messages"),
        (_span(**{"gen_ai.input.messages": [{"parts": []}]}), "gen_ai.input.messages[0].role"),
        (
            _span(**{"gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": 5}]}]}),
            "gen_ai.input.messages[0].parts[0].content",
        ),
        (_span(**{"gen_ai.input.messages": ["hi"]}), "gen_ai.input.messages[0]"),
        (_span(**{"gen_ai.input.messages": None}), "gen_ai.input.messages"),  # content capture off
        (_span(**{"gen_ai.output.messages": "not a list"}), "gen_ai.output.messages"),
        (_span(tags="escalated"), "tags"),
        (_span(turn=0), "turn"),
        (_span(user_outcome="meh"), "user_outcome"),
        ({**_span(), "status": {"code": 7}}, "status.code"),
        ({**_span(), "status": {"code": ["ERROR"]}}, "status.code"),
        ({**_span(), "attributes": "gen_ai.operation.name=chat"}, "attributes"),
        ({**_span(), "events": {"name": "x"}}, "events"),
        ({"resourceSpans": {"spans": []}}, "resourceSpans"),
        (
            {
                "resourceSpans": [
                    {
                        "scopeSpans": [
                            {"spans": [{"name": "chat", "attributes": [{"key": "k", "value": {"weird": 1}}]}]}
                        ]
                    }
                ]
            },
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[k]",
        ),
    ],
)
def test_malformed_span_is_quarantined_naming_the_field(raw, field):
    error = _error_of(raw)
    assert error.startswith("line 1: ")
    assert f"field '{field}'" in error


def test_reader_errors_are_quarantined_and_good_lines_kept():
    raws = [json.dumps(_span()), None, json.dumps(_span(**{"gen_ai.operation.name": "execute_tool"}))]
    batch = _parse(raws, errors={2: "invalid UTF-8 at byte 3"})
    assert batch.records["source_line"].to_list() == [1]
    assert batch.quarantine["error"].to_list() == ["line 2: invalid UTF-8 at byte 3"]
    assert batch.skipped == 1


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"gen_ai.conversation.id": "conv", "session.id": "sess", "session_id": "sid"}, "conv"),
        ({"session.id": "sess", "session_id": "sid"}, "sess"),
        ({"session_id": 77}, "77"),
        ({}, "4bf92f3577b34da6a3ce929d0e0e4736"),
    ],
)
def test_session_resolution_order(attrs, expected):
    assert _one(_span(**attrs))["session_id"] == expected


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"gen_ai.routing.path": "a", "llm.routing_path": "b", "routing.path": "c"}, "a"),
        ({"llm.routing_path": "b", "routing.path": "c"}, "b"),
        ({"routing.path": "c"}, "c"),
        ({}, "demo/primary-large"),
    ],
)
def test_routing_path_attributes(attrs, expected):
    assert _one(_span(**attrs))["routing_path"] == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"code": 2, "message": "boom"}, "error"),
        ({"code": "STATUS_CODE_ERROR"}, "error"),
        ({"status_code": "ERROR", "description": "boom"}, "error"),
        ({"code": 1}, "ok"),
        ({"code": "STATUS_CODE_UNSET"}, "ok"),
        (None, "ok"),
    ],
)
def test_status_codes(status, expected):
    span = {**_span(**{"error.type": "TimeoutError"}), "status": status}
    record = _one(span)
    assert record["status"] == expected
    assert (record["response"] is None) == (expected == "error")


@pytest.mark.parametrize(
    "operation",
    ["execute_tool", "invoke_agent", "create_agent", "embeddings"],
)
def test_non_inference_spans_are_skipped(operation):
    batch = _parse([json.dumps(_span(**{"gen_ai.operation.name": operation}))])
    assert batch.skipped == 1 and batch.records.is_empty()


def test_old_and_new_token_names_agree():
    new = _one(
        _span(
            **{
                "gen_ai.usage.input_tokens": 7,
                "gen_ai.usage.output_tokens": 3,
                "gen_ai.provider.name": "openai",
            }
        )
    )
    old = _one(
        _span(
            **{
                "gen_ai.usage.prompt_tokens": 7,
                "gen_ai.usage.completion_tokens": 3,
                "gen_ai.system": "openai",
            }
        )
    )
    assert (
        (new["input_tokens"], new["output_tokens"]) == (old["input_tokens"], old["output_tokens"]) == (7, 3)
    )


def test_otlp_int_values_arrive_as_strings():
    span = copy.deepcopy(json.loads(_fixture("otel_otlp_export.jsonl")[0]))
    record = otel.map_line(span, CTX)[0]
    assert record["input_tokens"] == 100 and isinstance(record["input_tokens"], int)


def test_looks_like_tells_otel_from_other_formats():
    for name in ("otel_spans_current.jsonl", "otel_spans_legacy.jsonl", "otel_otlp_export.jsonl"):
        assert all(otel.looks_like(json.loads(line)) for line in _fixture(name))
    assert not otel.looks_like({"request_id": "r", "ts": "2026-11-20T00:00:00Z", "messages": []})
    litellm_line = json.loads((FIXTURES / "litellm_proxy_sample.jsonl").read_text().splitlines()[0])
    assert not otel.looks_like(litellm_line)


@pytest.mark.parametrize("value", [{"doubleValue": "abc"}, {"arrayValue": [1]}, {"kvlistValue": "x"}])
def test_odd_otlp_value_shapes_are_quarantined_not_a_crash(value):
    export = json.loads(_fixture("otel_otlp_export.jsonl")[0])
    spans = export["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["attributes"].append({"key": "gen_ai.usage.cost", "value": value})
    batch = _parse([json.dumps(export), _fixture("otel_otlp_export.jsonl")[2]])
    assert batch.records["source_line"].to_list() == [2]  # the good line still lands
    assert batch.quarantine["error"].to_list()[0].startswith("line 1: ")


def test_out_of_range_timestamp_is_quarantined_not_a_crash():
    span = _span()
    span["start_time"] = "0001-01-01T00:00:00+01:00"
    assert _error_of(span).startswith("line 1: ")


@pytest.mark.parametrize("shape", ["flattened", "otlp"])
def test_a_session_set_on_a_later_line_of_the_batch_reaches_the_traces_model_calls(shape):
    """Span exporters write an agent span, which ends last, after its model calls: the session it carries
    still reaches them; a model call of another trace keeps its trace id."""
    chat, other = _span(), _span()
    other["trace_id"] = "ffffffffffffffffffffffffffffffff"
    agent = _span(**{"gen_ai.operation.name": "invoke_agent", "session.id": "sess-agent"})
    agent.pop("trace_id")
    agent["context"] = {"trace_id": "0x" + chat["trace_id"], "span_id": "0x00f067aa0ba90999"}  # the SDK's to_json

    def line(span: dict) -> str:
        if shape == "flattened":
            return json.dumps(span)
        attributes = [{"key": k, "value": {"stringValue": v if isinstance(v, str) else json.dumps(v)}}
                      for k, v in span["attributes"].items()]
        trace = span.get("trace_id") or span["context"]["trace_id"].removeprefix("0x")
        otlp = {"traceId": trace, "spanId": "00f067aa0ba902b7", "name": span["name"],
                "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 1), "attributes": attributes}
        return json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [otlp]}]}]})

    batch = _parse([line(chat), line(other), line(agent)])
    assert batch.skipped == 1
    assert batch.records["session_id"].to_list() == ["sess-agent", "ffffffffffffffffffffffffffffffff"]
