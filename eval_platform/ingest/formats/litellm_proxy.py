"""LiteLLM proxy logs: one `StandardLoggingPayload` (litellm 1.110) per line -> canonical records.

The proxy emits this record for every call, success or failure (custom loggers, `s3_v2`, `gcs_bucket`,
`generic_api`, ...). Field by field:

- record_id: `litellm_call_id`, else `id`. session_id: `session_id` (empty unless the proxy runs with
  `request_correlation_in_logs`), else `session_id` / `conversation_id` / `thread_id` / `litellm_session_id`
  in `metadata.requester_metadata` then `metadata.spend_logs_metadata`, else `trace_id` (which the proxy
  shares across the retries and fallbacks of one request).
- ts: `startTime` (epoch seconds, UTC); latency_ms: `endTime - startTime`, else `response_time`.
- routing_path: `model_group`. The router rewrites `model_group` to the fallback target on every hop, so
  a request served by a fallback is logged under the group that actually served it.
- route_reason: "fallback" when the call was served by a fallback, "auto_router" when the payload carries an
  auto-router `routing_decision`, else "default". Served by a fallback means any of: response header
  `x-litellm-attempted-fallbacks` > 0 in `hidden_params.additional_headers` (what litellm 1.110 records on
  the success payload), `attempted_fallbacks` > 0 in `metadata` or at the top level (spend-log shaped rows),
  or an `original_model_group` that differs from `model_group`. The failed attempt on the original group
  is its own record (status error, routing_path = original group); both share `trace_id`.
- served_model: `model` (litellm's provider-prefixed model string: the same on success and failure rows and
  callable again through litellm), else `response.model`.
- messages: `messages` as [{role, content}], text parts of list contents joined by newlines; a bare string
  (text completion, or redacted logs) is one user message. prompt: the last user message.
- response: `response.choices[0].message.content` (or `.text`, or Responses-API `output` text).
- status: "success" -> ok, "failure" -> error (kept as a record, never dropped); the error text
  (`error_str`, else `error_information.error_message`) is carried under the extra key `error`.
- cost_usd: `response_cost`; tokens: `prompt_tokens` / `completion_tokens`; tags: `request_tags`.
- task_type, turn, retrieved_sources: keys of `requester_metadata` (else `spend_logs_metadata`).
- user_outcome: `ctx.outcome_rules.metadata_keys` in those metadata dicts, else a tag in
  `escalated_tags` / `abandoned_tags`.

The S3/GCS loggers write one pretty-printed object per `.json` file; that is not a line stream. Read such a
file whole and call `map_line(obj, ctx)` on the object (or hand it over re-serialised as a single line).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from eval_platform.ingest.formats.base import (
    AdapterContext,
    FieldError,
    ParsedBatch,
    apply_line_mapper,
    clip,
    message_list,
    non_negative_count,
    non_negative_number,
    resolve_outcome,
)

FORMAT = "litellm"  # the config name (`ingest.format`)
SESSION_KEYS = ("session_id", "conversation_id", "thread_id", "litellm_session_id")
_TEXT_PART_TYPES = {"text", "input_text", "output_text"}
_MIN_TS = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_MAX_TS = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


def looks_like(obj: dict) -> bool:
    """A StandardLoggingPayload: camelCase `startTime` plus a litellm-only key."""
    return (
        isinstance(obj, dict)
        and "startTime" in obj
        and any(key in obj for key in ("litellm_call_id", "model_group", "call_type"))
    )


def parse(lines: pl.DataFrame, ctx: AdapterContext) -> ParsedBatch:
    """Map every line; lines the reader already rejected (`line_error`) are quarantined as they are."""
    return apply_line_mapper(lines, ctx, map_line)


def map_line(obj: object, ctx: AdapterContext) -> dict:
    """One StandardLoggingPayload -> one canonical record; raises FieldError naming the field."""
    if not isinstance(obj, dict):
        raise FieldError("(line)", f"expected a JSON object, got {type(obj).__name__}")
    metadata = _dict(obj, "metadata")
    requester = _dict(metadata, "requester_metadata", "metadata.")
    spend = _dict(metadata, "spend_logs_metadata", "metadata.")
    extra = [("metadata.requester_metadata", requester), ("metadata.spend_logs_metadata", spend)]

    status = obj.get("status")
    if status not in ("success", "failure"):
        raise FieldError("status", f"expected 'success' or 'failure', got {status!r}")
    start = _epoch(obj, "startTime", required=True)
    end = _epoch(obj, "endTime", required=False)
    if end is not None and end < start:
        raise FieldError("endTime", f"{end} is before startTime {start}")
    latency_s = end - start if end is not None else non_negative_number(obj, "response_time")

    messages = _messages(obj.get("messages"))
    tags = _str_list(obj.get("request_tags"), "request_tags") or []
    return {
        "record_id": _first_str(obj, ("litellm_call_id", "id"), "litellm_call_id"),
        "ts": datetime.fromtimestamp(start, UTC).replace(tzinfo=None),
        "session_id": _session(obj, extra),
        "turn": _turn(extra),
        "routing_path": _routing_path(obj),
        "served_model": _served_model(obj),
        "route_reason": _route_reason(obj, metadata),
        "task_type": _lookup_str(extra, "task_type"),
        "messages": json.dumps(messages, ensure_ascii=False),
        "prompt": next((m["content"] for m in reversed(messages) if m["role"] == "user"), None),
        "response": _response_text(obj.get("response")) if status == "success" else None,
        "status": "ok" if status == "success" else "error",
        "error": _error_text(obj) if status == "failure" else None,
        "latency_ms": None if latency_s is None else latency_s * 1000.0,
        "cost_usd": non_negative_number(obj, "response_cost"),
        "input_tokens": non_negative_count(obj, ("prompt_tokens",)),
        "output_tokens": non_negative_count(obj, ("completion_tokens",)),
        "user_outcome": _outcome(extra, tags, ctx),
        "tags": tags,
        "retrieved_sources": _lookup_sources(extra),
    }


# ---- identity, routing ------------------------------------------------------------------------------


def _session(obj: dict, extra: list[tuple[str, dict]]) -> str:
    if isinstance(obj.get("session_id"), str) and obj["session_id"]:
        return obj["session_id"]
    for source in extra:  # requester metadata first, key order within each
        for key in SESSION_KEYS:
            if (value := _lookup_id([source], key)) is not None:
                return value
    if isinstance(obj.get("trace_id"), str) and obj["trace_id"]:
        return obj["trace_id"]
    raise FieldError(
        "session_id", "no session_id, requester_metadata session/conversation/thread id or trace_id"
    )


def _routing_path(obj: dict) -> str:
    """`model_group`; a call made without a litellm Router (an SDK callback's log) has `model_group: ""`,
    and its path is then the model it asked for."""
    group = obj.get("model_group")
    if isinstance(group, str) and group:
        return group
    if group not in (None, ""):
        raise FieldError("model_group", f"expected a string, got {_shown(group)}")
    model = obj.get("model")
    if isinstance(model, str) and model:
        return model
    raise FieldError("model_group", f"empty, and no 'model' to fall back on (got {_shown(model)})")


def _served_model(obj: dict) -> str:
    """The model the provider says answered (`response.model`), else the payload's `model`."""
    response = obj.get("response")
    if isinstance(response, dict) and isinstance(response.get("model"), str) and response["model"]:
        return response["model"]
    model = obj.get("model")
    if isinstance(model, str) and model:
        return model
    raise FieldError("model", f"expected a non-empty string (and no response.model), got {_shown(model)}")


def _shown(value: object) -> str:
    """A value as an error message shows it: its JSON type and a short JSON rendering."""
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), "null" if value is None else type(value).__name__)
    return f"{kind} {clip(json.dumps(value, default=str))}"


def _route_reason(obj: dict, metadata: dict) -> str:
    hidden = obj.get("hidden_params")
    headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    attempted = (
        headers.get("x-litellm-attempted-fallbacks") if isinstance(headers, dict) else None,
        metadata.get("attempted_fallbacks"),
        obj.get("attempted_fallbacks"),
    )
    if any(_positive_int(n) for n in attempted):
        return "fallback"
    group = obj.get("model_group")
    originals = (metadata.get("original_model_group"), obj.get("original_model_group"))
    if any(isinstance(o, str) and o and o != group for o in originals):
        return "fallback"
    return "auto_router" if metadata.get("routing_decision") else "default"


def _positive_int(value: object) -> bool:
    """True for 1, 2, ... and for header values stringified on the way ("1")."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# ---- payload --------------------------------------------------------------------------------------


def _messages(value: object) -> list[dict]:
    """Normalise `messages` to a non-empty [{role, content}] with string content."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = value.get("messages", [value] if "role" in value else None)
    if isinstance(value, list) and not value:
        raise FieldError("messages", "empty list")
    return message_list(value, "messages", lambda message, field: _content_text(message.get("content"), f"{field}.content"))


def _content_text(content: object, field: str) -> str | None:
    """A message content (string, part, or list of parts) as text; non-text parts are left out."""
    if content is None or isinstance(content, str):
        return content
    parts = [content] if isinstance(content, dict) else content
    if not isinstance(parts, list):
        raise FieldError(field, f"expected a string or a list of parts, got {type(content).__name__}")
    texts = []
    for j, part in enumerate(parts):
        if isinstance(part, str):
            texts.append(part)
        elif not isinstance(part, dict):
            raise FieldError(f"{field}[{j}]", f"expected a content part object, got {type(part).__name__}")
        elif part.get("type", "text") in _TEXT_PART_TYPES:
            text = part.get("text")
            if not isinstance(text, str):
                raise FieldError(f"{field}[{j}].text", f"expected a string, got {type(text).__name__}")
            texts.append(text)
    return "\n".join(texts)


def _response_text(response: object) -> str | None:
    if response is None or isinstance(response, str):
        return response
    if not isinstance(response, dict):
        raise FieldError("response", f"expected an object, got {type(response).__name__}")
    if "choices" in response:
        choices = response["choices"]
        if not isinstance(choices, list):
            raise FieldError("response.choices", f"expected a list, got {type(choices).__name__}")
        if not choices:
            return None
        choice = choices[0]
        if not isinstance(choice, dict):
            raise FieldError("response.choices[0]", f"expected an object, got {type(choice).__name__}")
        if isinstance(choice.get("message"), dict):
            return _content_text(choice["message"].get("content"), "response.choices[0].message.content")
        return _content_text(choice.get("text"), "response.choices[0].text")
    if isinstance(response.get("output"), list):  # Responses API
        texts = [
            _content_text(item.get("content"), f"response.output[{i}].content")
            for i, item in enumerate(response["output"])
            if isinstance(item, dict) and item.get("type") == "message"
        ]
        return "\n".join(t for t in texts if t) or None
    return None


def _error_text(obj: dict) -> str | None:
    info = obj.get("error_information")
    info = info if isinstance(info, dict) else {}
    for value in (obj.get("error_str"), info.get("error_message"), info.get("error_class")):
        if isinstance(value, str) and value:
            return value
    return None


def _outcome(extra: list[tuple[str, dict]], tags: list[str], ctx: AdapterContext) -> str | None:
    found = [hit for key in ctx.outcome_rules.metadata_keys if (hit := _lookup(extra, key)) is not None]
    return resolve_outcome(found, tags, ctx.outcome_rules)


# ---- metadata lookups -------------------------------------------------------------------------------


def _lookup(extra: list[tuple[str, dict]], key: str) -> tuple[str, object] | None:
    """The first metadata dict that has `key` (non-null): (field path, value)."""
    for prefix, source in extra:
        if source.get(key) is not None:
            return f"{prefix}.{key}", source[key]
    return None


def _lookup_str(extra: list[tuple[str, dict]], key: str) -> str | None:
    if (found := _lookup(extra, key)) is None:
        return None
    field, value = found
    if not isinstance(value, str):
        raise FieldError(field, f"expected a string, got {type(value).__name__}")
    return value


def _lookup_id(extra: list[tuple[str, dict]], key: str) -> str | None:
    if (found := _lookup(extra, key)) is None:
        return None
    field, value = found
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(field, f"expected a string id, got {type(value).__name__}")
    return str(value) or None


def _turn(extra: list[tuple[str, dict]]) -> int | None:
    if (found := _lookup(extra, "turn")) is None:
        return None
    field, value = found
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FieldError(field, f"expected an integer >= 1, got {value!r}")
    return value


def _lookup_sources(extra: list[tuple[str, dict]]) -> list[str] | None:
    found = _lookup(extra, "retrieved_sources")
    return None if found is None else _str_list(found[1], found[0])


# ---- scalar checks ----------------------------------------------------------------------------------


def _dict(obj: Mapping, key: str, prefix: str = "") -> dict:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(prefix + key, f"expected an object, got {type(value).__name__}")
    return value


def _first_str(obj: dict, keys: tuple[str, ...], field: str) -> str:
    for key in keys:
        if isinstance(obj.get(key), str) and obj[key]:
            return obj[key]
    present = [key for key in keys if obj.get(key) not in (None, "")]
    if present:
        raise FieldError(present[0], f"expected a non-empty string, got {_shown(obj[present[0]])}")
    raise FieldError(field, f"missing: none of {', '.join(keys)} is a non-empty string")


def _epoch(obj: dict, key: str, required: bool) -> float | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(key, f"expected epoch seconds (a number), got {value!r}")
    if not _MIN_TS <= value < _MAX_TS:
        raise FieldError(
            key, f"epoch seconds {value} is outside 2000-2100 (milliseconds instead of seconds?)"
        )
    return float(value)


def _str_list(value: object, field: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(field, f"expected a list of strings, got {clip(json.dumps(value), 80)}")
    return value
