"""OpenTelemetry GenAI spans -> canonical records, one line holding one span or one OTLP/JSON export.

Two line shapes: a flattened span (`name`, `trace_id`/`traceId`/`context.trace_id`, `span_id`, start/end time
as nanoseconds or ISO strings, `attributes` as a dict or OTLP key/value list, `events`, `status`) and an
OTLP/JSON export request (`resourceSpans[].scopeSpans[].spans[]`), whose spans all keep the line's number.

Inference spans are those whose `gen_ai.operation.name` (else openllmetry's `llm.request.type`, else the
first word of the span name) is chat / text_completion / generate_content. Any other span (execute_tool,
invoke_agent, embeddings, HTTP, ...) is skipped, and a line with no inference span is one skipped line. One
malformed inference span quarantines its whole line.

Attribute names, current semantic conventions first, then pre-1.37 ones:
- served_model: gen_ai.response.model, else gen_ai.request.model. routing_path: gen_ai.routing.path,
  llm.routing_path or routing.path (span, then resource), else gen_ai.request.model; route_reason:
  gen_ai.routing.reason / routing.reason.
- record_id: gen_ai.response.id, else span id. session_id: gen_ai.conversation.id, else session.id /
  session_id, else trace id.
- messages: gen_ai.system_instructions + gen_ai.input.messages (JSON string or structured, with `parts`);
  else gen_ai.prompt.N.role / .content; else span events gen_ai.{system,user,assistant,tool}.message
  (content in `content`, or a JSON body in `gen_ai.event.content`) or gen_ai.content.prompt (`gen_ai.prompt`).
- response: gen_ai.output.messages; else gen_ai.completion.0.content; else a gen_ai.choice event or
  gen_ai.content.completion (`gen_ai.completion`).
- tokens: gen_ai.usage.input_tokens / output_tokens, else prompt_tokens / completion_tokens. cost_usd:
  gen_ai.usage.cost. status: error when the span status code is ERROR (2, "STATUS_CODE_ERROR", "ERROR"),
  with error.type and the status message under the extra key `error`.
- task_type, turn, tags, retrieved_sources, user_outcome (ctx.outcome_rules.metadata_keys): application
  attributes of those names (span, then resource); outcome tags as for the other formats.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl

from eval_platform.ingest.formats.base import (
    AdapterContext,
    FieldError,
    ParsedBatch,
    SkipRecord,
    apply_line_mapper,
    clip,
    message_list,
    non_negative_count,
    non_negative_number,
    resolve_outcome,
)

FORMAT = "otel"  # the config name (`ingest.format`)
INFERENCE_OPERATIONS = {"chat", "text_completion", "generate_content"}
ROUTING_PATH_KEYS = ("gen_ai.routing.path", "llm.routing_path", "routing.path")
ROUTE_REASON_KEYS = ("gen_ai.routing.reason", "routing.reason")
# the semconv conversation id, OpenInference / baggage `session.id`, then what popular SDKs set: traceloop
# (openllmetry) association properties and Langfuse
SESSION_KEYS = ("gen_ai.conversation.id", "session.id", "session_id", "traceloop.association.properties.session_id",
                "langfuse.session.id")
_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
# OTLP/JSON writes the enum as 2 or "STATUS_CODE_ERROR"; the Python SDK's span.to_json() as "ERROR"
_ERROR_CODES = {2, "2", "STATUS_CODE_ERROR", "ERROR", "StatusCode.ERROR"}
_OK_CODES = {
    0,
    1,
    "0",
    "1",
    "STATUS_CODE_UNSET",
    "STATUS_CODE_OK",
    "UNSET",
    "OK",
    "StatusCode.UNSET",
    "StatusCode.OK",
}
_INDEXED = re.compile(r"gen_ai\.(prompt|completion)\.(\d+)\.(role|content)")
_EPOCH = datetime(1970, 1, 1)
_MIN_NS, _MAX_NS = 946_684_800 * 10**9, 4_102_444_800 * 10**9  # 2000-01-01 .. 2100-01-01


def looks_like(obj: dict) -> bool:
    """An OTLP export request, or a span object with attributes and a trace/span id."""
    if not isinstance(obj, dict):
        return False
    if "resourceSpans" in obj:
        return True
    ids = ("trace_id", "traceId", "span_id", "spanId", "context")
    return "attributes" in obj and "name" in obj and any(key in obj for key in ids)


# a record's session while its batch is being read, when none of its own: resolved at the end of the batch
_BY_TRACE = "\x00trace:"


def parse(lines: pl.DataFrame, ctx: AdapterContext) -> ParsedBatch:
    """Map every line (a line may yield several records or be skipped); reader errors are quarantined.

    A model call without a session id of its own takes the one any span of its trace carries anywhere in
    the batch (exporters write an agent span, which ends last, after its model calls), else its trace id.
    """
    seen: dict[str, str] = {}
    batch = apply_line_mapper(lines, ctx, lambda obj, c: map_line(obj, c, seen))
    session = batch.records.get_column("session_id")
    deferred = session.str.starts_with(_BY_TRACE).fill_null(False)
    if not deferred.any():
        return batch
    trace = session.str.strip_prefix(_BY_TRACE)
    resolved = pl.select(pl.when(deferred).then(trace.replace(seen)).otherwise(session)).to_series()
    return ParsedBatch(batch.records.with_columns(resolved.alias("session_id")), batch.quarantine, batch.skipped)


def map_line(obj: object, ctx: AdapterContext, seen: dict[str, str] | None = None) -> list[dict]:
    """One line -> the records of its inference spans; SkipRecord if it has none.

    A record without a session id of its own takes the one another span of its trace carries. Alone, the
    line is all there is to look at; with `seen` (a batch's trace id -> session, filled here from every
    span, model call or not) the record is marked for `parse` to resolve once the whole batch is read."""
    if not isinstance(obj, dict):
        raise FieldError("(line)", f"expected a JSON object, got {type(obj).__name__}")
    flat = "resourceSpans" not in obj
    if flat:
        resource = obj.get("resource")  # the SDK's span.to_json() nests its resource
        res_attrs = _attributes(resource.get("attributes"), "resource.attributes") if isinstance(resource, dict) else {}
        spans = [("", obj, res_attrs)]
    else:
        spans = list(_export_spans(obj))
    sessions = _trace_sessions(spans)
    if seen is None:
        def by_trace(trace: str) -> str:
            return sessions.get(trace, trace)
    else:
        for trace, session in sessions.items():
            seen.setdefault(trace, session)

        def by_trace(trace: str) -> str:
            return _BY_TRACE + trace
    records = []
    for path, span, resource in spans:
        try:
            records.append(map_span(span, resource, ctx, by_trace))
        except SkipRecord:
            continue
        except FieldError as exc:
            raise (exc if flat else FieldError(f"{path}.{exc.field_name}", exc.problem)) from None
    if not records:
        raise SkipRecord()
    return records


def _trace_of(span: dict) -> str | None:
    """The span's trace id (OTLP `traceId`, a flattened `trace_id`, or the SDK's `context.trace_id`)."""
    context = span.get("context") if isinstance(span.get("context"), dict) else {}
    return _id(span.get("trace_id") or span.get("traceId") or context.get("trace_id"))


def _trace_sessions(spans: list[tuple[str, object, dict]]) -> dict[str, str]:
    """trace id -> the first session id any span of that trace in the same export carries: apps often set
    `session.id` on the agent or request span only, and its model calls belong to the same session."""
    sessions: dict[str, str] = {}
    for _, span, resource in spans:
        try:
            attrs = {**resource, **_attributes(span.get("attributes"), "attributes")}
            trace_id = _trace_of(span)
            session = _first_str_attr(attrs, SESSION_KEYS, allow_int=True)
        except (FieldError, AttributeError):
            continue  # a malformed span: map_span reports it if it is an inference span
        if trace_id and session:
            sessions.setdefault(trace_id, session)
    return sessions


def map_span(span: object, resource: dict, ctx: AdapterContext,
             by_trace: Callable[[str], str] = lambda trace: trace) -> dict:
    """One span -> one canonical record; SkipRecord for spans that are not model inference.

    A span without a session id of its own gets `by_trace(trace_id)` (its trace's session, see `map_line`).
    """
    if not isinstance(span, dict):
        raise FieldError("(span)", f"expected an object, got {type(span).__name__}")
    attrs = {**resource, **_attributes(span.get("attributes"), "attributes")}
    if not _is_inference(span, attrs):
        raise SkipRecord()
    context = span.get("context") if isinstance(span.get("context"), dict) else {}
    trace_id = _trace_of(span)
    span_id = _id(span.get("span_id") or span.get("spanId") or context.get("span_id"))
    start_key = (
        _first_key(span, ("startTimeUnixNano", "start_time", "start_time_unix_nano")) or "startTimeUnixNano"
    )
    start = _nanos(span.get(start_key), start_key)
    end_key = _first_key(span, ("endTimeUnixNano", "end_time", "end_time_unix_nano"))
    end = _nanos(span[end_key], end_key) if end_key else None
    if end is not None and end < start:
        raise FieldError(end_key, "end time is before start time")
    events = _events(span.get("events"))
    request_model = _str_attr(attrs, "gen_ai.request.model")
    routing_path = _first_str_attr(attrs, ROUTING_PATH_KEYS) or request_model
    if not routing_path:
        raise FieldError("gen_ai.request.model", f"missing (and no {' / '.join(ROUTING_PATH_KEYS)})")
    served_model = _str_attr(attrs, "gen_ai.response.model") or request_model
    is_error = _is_error(span.get("status"))
    messages = _input_messages(attrs, events)
    tags = _str_list(attrs, "tags") or []
    record_id = _str_attr(attrs, "gen_ai.response.id") or span_id
    session_id = _first_str_attr(attrs, SESSION_KEYS, allow_int=True) or (by_trace(trace_id) if trace_id else None)
    if not record_id:
        raise FieldError("span_id", "missing (and no gen_ai.response.id)")
    if not session_id:
        raise FieldError("trace_id", "missing (and no gen_ai.conversation.id or session.id)")
    return {
        "record_id": record_id,
        "ts": _EPOCH + timedelta(microseconds=start // 1000),
        "session_id": session_id,
        "turn": _turn(attrs),
        "routing_path": routing_path,
        "served_model": served_model,
        "route_reason": _first_str_attr(attrs, ROUTE_REASON_KEYS),
        "task_type": _first_str_attr(attrs, ("task_type", "app.task_type")),
        "messages": json.dumps(messages, ensure_ascii=False),
        "prompt": next((m["content"] for m in reversed(messages) if m["role"] == "user"), None),
        "response": None if is_error else _output_text(attrs, events),
        "status": "error" if is_error else "ok",
        "error": _error_text(span, attrs, events) if is_error else None,
        "latency_ms": None if end is None else (end - start) / 1e6,
        "cost_usd": non_negative_number(attrs, "gen_ai.usage.cost"),
        "input_tokens": non_negative_count(attrs, ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")),
        "output_tokens": non_negative_count(attrs, ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")),
        "user_outcome": _outcome(attrs, tags, ctx),
        "tags": tags,
        "retrieved_sources": _str_list(attrs, "retrieved_sources"),
    }


# ---- OTLP structure ---------------------------------------------------------------------------------


def _export_spans(obj: dict):
    """(field path, span, resource attributes) for every span of an OTLP/JSON export request."""
    resource_spans = obj["resourceSpans"]
    if not isinstance(resource_spans, list):
        raise FieldError("resourceSpans", f"expected a list, got {type(resource_spans).__name__}")
    for i, rs in enumerate(resource_spans):
        if not isinstance(rs, dict):
            raise FieldError(f"resourceSpans[{i}]", f"expected an object, got {type(rs).__name__}")
        resource = rs.get("resource") or {}
        res_attrs = _attributes(
            resource.get("attributes") if isinstance(resource, dict) else None, f"resourceSpans[{i}].resource"
        )
        scope_spans = rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", []))
        if not isinstance(scope_spans, list):
            raise FieldError(f"resourceSpans[{i}].scopeSpans", "expected a list")
        for j, ss in enumerate(scope_spans):
            spans = ss.get("spans", []) if isinstance(ss, dict) else None
            if not isinstance(spans, list):
                raise FieldError(f"resourceSpans[{i}].scopeSpans[{j}].spans", "expected a list")
            for k, span in enumerate(spans):
                yield f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]", span, res_attrs


def _attributes(value: object, field: str) -> dict:
    """Span/event/resource attributes as a flat dict, from a dict or an OTLP [{key, value}] list."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, list):
        raise FieldError(field, f"expected an object or a key/value list, got {type(value).__name__}")
    out = {}
    for i, kv in enumerate(value):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise FieldError(f"{field}[{i}]", 'expected {"key": ..., "value": ...}')
        out[kv["key"]] = _any_value(kv.get("value"), f"{field}[{kv['key']}]")
    return out


def _any_value(value: object, field: str) -> object:
    """Decode an OTLP AnyValue ({"stringValue": ...}, {"intValue": "12"}, arrays, kvlists)."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise FieldError(field, f"expected an OTLP AnyValue, got {clip(json.dumps(value), 80)}")
    kind, inner = next(iter(value.items()))
    if kind == "stringValue" or kind == "boolValue" or kind == "bytesValue":
        return inner
    if kind == "intValue":
        try:
            return int(inner)
        except (TypeError, ValueError):
            raise FieldError(field, f"intValue {inner!r} is not an integer") from None
    if kind == "doubleValue":
        return float(inner) if isinstance(inner, int | float | str) else inner
    if kind == "arrayValue":
        return [_any_value(v, field) for v in (inner or {}).get("values", [])]
    if kind == "kvlistValue":
        return _attributes((inner or {}).get("values", []), field)
    raise FieldError(field, f"unknown AnyValue kind {kind!r}")


def _events(value: object) -> list[tuple[str, dict]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError("events", f"expected a list, got {type(value).__name__}")
    out = []
    for i, event in enumerate(value):
        if not isinstance(event, dict) or not isinstance(event.get("name"), str):
            raise FieldError(f"events[{i}]", "expected an object with a string name")
        out.append((event["name"], _attributes(event.get("attributes"), f"events[{i}].attributes")))
    return out


def _is_inference(span: dict, attrs: dict) -> bool:
    operation = attrs.get("gen_ai.operation.name") or attrs.get("llm.request.type")
    if operation is not None and not isinstance(operation, str):
        raise FieldError("gen_ai.operation.name", f"expected a string, got {type(operation).__name__}")
    if operation is not None:
        return {"completion": "text_completion"}.get(operation, operation) in INFERENCE_OPERATIONS
    name = span.get("name")
    return isinstance(name, str) and name.split(" ", 1)[0] in INFERENCE_OPERATIONS


def _is_error(status: object) -> bool:
    if status is None:
        return False
    if not isinstance(status, dict):
        raise FieldError("status", f"expected an object, got {type(status).__name__}")
    code = status.get("code", status.get("status_code"))
    if code is not None and not isinstance(code, int | str):
        raise FieldError("status.code", f"expected an integer or a string, got {type(code).__name__}")
    if code in _ERROR_CODES:
        return True
    if code is None or code in _OK_CODES:
        return False
    raise FieldError("status.code", f"unknown status code {code!r}")


def _error_text(span: dict, attrs: dict, events: list[tuple[str, dict]]) -> str:
    status = span.get("status") or {}
    message = status.get("message") or status.get("description")
    for name, event_attrs in events:
        if name == "exception" and not message:
            message = event_attrs.get("exception.message")
    error_type = attrs.get("error.type")
    return ": ".join(str(p) for p in (error_type, message) if p) or "error"


# ---- messages ---------------------------------------------------------------------------------------


def _input_messages(attrs: dict, events: list[tuple[str, dict]]) -> list[dict]:
    """The conversation sent to the model as [{role, content}], from whichever convention the span uses."""
    messages: list[dict] = []
    if "gen_ai.system_instructions" in attrs:
        parts = _json_attr(attrs, "gen_ai.system_instructions")
        messages.append({"role": "system", "content": _parts_text(parts, "gen_ai.system_instructions")})
    if "gen_ai.input.messages" in attrs:
        messages += _message_list(_json_attr(attrs, "gen_ai.input.messages"), "gen_ai.input.messages")
    elif indexed := _indexed(attrs, "prompt"):
        messages += indexed
    else:
        messages += _event_messages(events)
    if not messages:
        raise FieldError(
            "gen_ai.input.messages",
            "no input messages (nor gen_ai.prompt.N.* or message events): enable content capture in the instrumentation",
        )
    return messages


def _output_text(attrs: dict, events: list[tuple[str, dict]]) -> str | None:
    if "gen_ai.output.messages" in attrs:
        outputs = _message_list(_json_attr(attrs, "gen_ai.output.messages"), "gen_ai.output.messages")
        return (outputs[0]["content"] or None) if outputs else None  # a tool-call-only answer has no text
    if indexed := _indexed(attrs, "completion"):
        return indexed[0]["content"] or None
    for name, event_attrs in events:
        if name == "gen_ai.choice":
            body = _event_body(event_attrs, f"events[{name}]")
            message = body.get("message") if isinstance(body.get("message"), dict) else body
            return _parts_text(message.get("content"), f"events[{name}].message.content")
        if name == "gen_ai.content.completion" and "gen_ai.completion" in event_attrs:
            completion = _json_attr(event_attrs, "gen_ai.completion")
            if isinstance(completion, str):
                return completion
            outputs = _message_list(completion, f"events[{name}].gen_ai.completion")
            return outputs[0]["content"] if outputs else None
    return None


def _message_list(value: object, field: str) -> list[dict]:
    return message_list(
        value, field,
        lambda message, at: _parts_text(message["parts"] if "parts" in message else message.get("content"), at),
    )


def _parts_text(parts: object, field: str) -> str:
    """Text of a content value: a string, or semconv parts ({type: text, content}) / OpenAI parts ({text})."""
    if parts is None or isinstance(parts, str):
        return parts or ""
    if isinstance(parts, dict):
        parts = [parts]
    if not isinstance(parts, list):
        raise FieldError(field, f"expected a string or a list of parts, got {type(parts).__name__}")
    texts = []
    for j, part in enumerate(parts):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise FieldError(f"{field}.parts[{j}]", f"expected an object, got {type(part).__name__}")
        kind = part.get("type", "text")
        if kind in ("text", "input_text", "output_text"):
            text = part.get("content", part.get("text"))
            if not isinstance(text, str):
                raise FieldError(
                    f"{field}.parts[{j}].content", f"expected a string, got {type(text).__name__}"
                )
            texts.append(text)
        elif kind == "tool_call_response":
            response = part.get("response")
            texts.append(response if isinstance(response, str) else json.dumps(response, ensure_ascii=False))
    return "\n".join(texts)


def _indexed(attrs: dict, kind: str) -> list[dict]:
    """Pre-1.37 flattened gen_ai.prompt.N.role / .content (or completion) attributes, in N order."""
    rows: dict[int, dict] = {}
    for key, value in attrs.items():
        if (m := _INDEXED.fullmatch(key)) and m.group(1) == kind:
            rows.setdefault(int(m.group(2)), {})[m.group(3)] = value
    out = []
    for n in sorted(rows):
        role = rows[n].get("role", "user" if kind == "prompt" else "assistant")
        content = rows[n].get("content")
        if not isinstance(role, str) or not (content is None or isinstance(content, str)):
            raise FieldError(f"gen_ai.{kind}.{n}", "expected string role and content")
        out.append({"role": role, "content": content or ""})
    return out


def _event_messages(events: list[tuple[str, dict]]) -> list[dict]:
    out = []
    for i, (name, event_attrs) in enumerate(events):
        if name in _MESSAGE_EVENTS:
            body = _event_body(event_attrs, f"events[{i}]")
            role = body.get("role") if isinstance(body.get("role"), str) else _MESSAGE_EVENTS[name]
            out.append({"role": role, "content": _parts_text(body.get("content"), f"events[{i}].content")})
        elif name == "gen_ai.content.prompt" and "gen_ai.prompt" in event_attrs:
            prompt = _json_attr(event_attrs, "gen_ai.prompt")
            if isinstance(prompt, str):
                out.append({"role": "user", "content": prompt})
            else:
                out += _message_list(prompt, f"events[{i}].gen_ai.prompt")
    return out


def _event_body(event_attrs: dict, field: str) -> dict:
    """A message event's body: its attributes, merged with a JSON `gen_ai.event.content` body if present."""
    body = dict(event_attrs)
    if "gen_ai.event.content" in body:
        content = _json_attr(body, "gen_ai.event.content")
        body.update(content if isinstance(content, dict) else {"content": content})
    if isinstance(body.get("message"), str):
        body["message"] = _json_attr(body, "message")
    return body


def _json_attr(attrs: dict, key: str) -> object:
    """A structured attribute, recorded as the value itself or as a JSON string of it."""
    value = attrs[key]
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        try:
            return json.loads(value)
        except ValueError:
            raise FieldError(key, "looks like JSON but does not parse") from None
    return value


# ---- scalar attributes ------------------------------------------------------------------------------


def _first_key(obj: dict, keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if obj.get(k) is not None), None)


_HEX_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")
_B64_ID = re.compile(r"[A-Za-z0-9+/]{11}=|[A-Za-z0-9+/]{22}==")


def _id(value: object) -> str | None:
    """A trace or span id as lower-case hex, however it was exported: OTLP/JSON hex, the SDK's "0x..." or
    the base64 of protobuf's JSON mapping (a naive MessageToJson export), so one span has one id."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("trace_id/span_id", f"expected a hex string, got {type(value).__name__}")
    value = value.removeprefix("0x")
    if _HEX_ID.fullmatch(value):
        return value.lower()
    if _B64_ID.fullmatch(value):
        return base64.b64decode(value).hex()
    return value or None  # another id scheme: kept as it is


def _nanos(value: object, field: str) -> int:
    """Nanoseconds since the epoch from an integer, a numeric string, or an ISO 8601 string."""
    if value is None:
        raise FieldError(field, "missing start time")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise FieldError(field, f"expected nanoseconds or ISO 8601, got {clip(value, 40)!r}") from None
        parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        value = int((parsed - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) * 1000
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, f"expected nanoseconds since the epoch, got {value!r}")
    if not _MIN_NS <= value < _MAX_NS:
        raise FieldError(field, f"{value} ns is outside 2000-2100 (seconds or milliseconds instead of ns?)")
    return value


def _str_attr(attrs: dict, key: str, allow_int: bool = False) -> str | None:
    value = attrs.get(key)
    if value is None or value == "":
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FieldError(key, f"expected a string, got {type(value).__name__}")
    return value


def _first_str_attr(attrs: dict, keys: tuple[str, ...], allow_int: bool = False) -> str | None:
    return next((v for k in keys if (v := _str_attr(attrs, k, allow_int)) is not None), None)


def _turn(attrs: dict) -> int | None:
    key = _first_key(attrs, ("turn", "app.turn"))
    if key is None:
        return None
    value = attrs[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FieldError(key, f"expected an integer >= 1, got {value!r}")
    return value


def _str_list(attrs: dict, key: str) -> list[str] | None:
    if attrs.get(key) is None:
        return None
    value = _json_attr(attrs, key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(key, f"expected a list of strings, got {clip(json.dumps(value), 80)}")
    return value


def _outcome(attrs: dict, tags: list[str], ctx: AdapterContext) -> str | None:
    found = [(key, attrs[key]) for key in ctx.outcome_rules.metadata_keys if attrs.get(key) is not None]
    return resolve_outcome(found, tags, ctx.outcome_rules)
