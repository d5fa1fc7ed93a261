"""The seam every log-format adapter implements.

An adapter turns the lines of one file (a frame `source_line: Int64, raw: String`) into canonical
records (`eval_platform.contract.CANONICAL_COLUMNS`), quarantined lines (`source_line, raw, error, day`)
and a count of valid-but-skipped lines (tool/HTTP spans, ...). It never drops a line: for every input
line exactly one of the three happens, so `lines = records + quarantined + skipped` holds per file (`records` counts lines that yielded
records: one OTLP export line may carry several spans, and all of them keep that line for lineage; if any
inference span in such a line is malformed, the whole line is quarantined, never half-kept).

Per-line adapters (LiteLLM, OpenTelemetry: nested, moderate volume) implement `map_line` and use
`apply_line_mapper`; the native adapter is vectorised in DuckDB because it carries the bulk of traffic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from eval_platform.config import OutcomeRules
from eval_platform.contract import CANONICAL_COLUMNS

_POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "TIMESTAMP": pl.Datetime("us"),
    "INTEGER": pl.Int32(),
    "JSON": pl.String(),
    "DOUBLE": pl.Float64(),
    "BIGINT": pl.Int64(),
    "VARCHAR[]": pl.List(pl.String()),
}
CANONICAL_SCHEMA: dict[str, pl.DataType] = {name: _POLARS_TYPES[t] for name, t in CANONICAL_COLUMNS.items()}
STATUSES = ("ok", "error")  # log_records.status
OUTCOMES = ("resolved", "abandoned", "escalated")  # log_records.user_outcome
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_line": pl.Int64(),
    "raw": pl.String(),
    "error": pl.String(),
    "day": pl.Date(),
}


class FieldError(ValueError):
    """A record that cannot be mapped: names the field and the problem (the line is added by the caller)."""

    def __init__(self, field_name: str, problem: str):
        super().__init__(f"field '{field_name}': {problem}")
        self.field_name = field_name
        self.problem = problem


class SkipRecord(Exception):
    """A valid line that is not a model call (a tool span, an HTTP span, ...): counted as skipped."""


@dataclass(frozen=True)
class AdapterContext:
    """What an adapter knows about the file it reads."""

    source_file: str  # path relative to landing/, as stored in lineage columns
    content_hash: str  # sha256 of the file's bytes
    outcome_rules: OutcomeRules = field(default_factory=OutcomeRules)


@dataclass
class ParsedBatch:
    records: pl.DataFrame  # CANONICAL_SCHEMA plus `source_line`
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    skipped: int = 0

    @staticmethod
    def empty_records() -> pl.DataFrame:
        return pl.DataFrame(schema={**CANONICAL_SCHEMA, "source_line": pl.Int64()})

    @staticmethod
    def empty_quarantine() -> pl.DataFrame:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)


LineMapper = Callable[[object, AdapterContext], list[dict] | dict]


try:  # orjson is optional: ~3x faster on big payloads
    from orjson import loads as json_loads
except ImportError:
    from json import loads as json_loads


def apply_line_mapper(lines: pl.DataFrame, ctx: AdapterContext, map_line: LineMapper) -> ParsedBatch:
    """Run a per-line adapter over `lines`; a line may yield one record, several (OTLP batches) or none.

    Lines are parsed with orjson when installed, else json. A line the reader could not decode keeps the
    reader's `line_error`. Errors become quarantine rows naming the line and field; `SkipRecord` counts the
    line as skipped. A line that yields several records keeps its `source_line` on each, so lineage still
    resolves to the exact line.
    """
    records: list[dict] = []
    quarantine: list[dict] = []
    skipped = 0
    has_errors = "line_error" in lines.columns
    for source_line, raw, line_error in lines.select(
        "source_line", "raw", pl.col("line_error") if has_errors else pl.lit(None, pl.String)
    ).iter_rows():
        if line_error is not None:  # undecodable or over-long: the reader already said why
            quarantine.append({"source_line": source_line, "raw": raw, "error": f"line {source_line}: {line_error}", "day": None})
            continue
        try:
            if raw is None or not raw.strip():
                raise FieldError("(line)", "empty line")
            try:
                obj = json_loads(raw)
            except ValueError as exc:
                raise FieldError("(line)", f"not valid JSON: {exc}") from None
            mapped = map_line(obj, ctx)
        except SkipRecord:
            skipped += 1
            continue
        except FieldError as exc:
            quarantine.append({"source_line": source_line, "raw": raw, "error": f"line {source_line}: {exc}", "day": None})
            continue
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError) as exc:
            # a value shaped in a way the mapper did not foresee: quarantined with what went wrong, never a
            # crash of the whole file (adapters raise FieldError for every shape they know)
            quarantine.append({"source_line": source_line, "raw": raw, "day": None,
                               "error": f"line {source_line}: unexpected value shape ({type(exc).__name__}: {exc})"})
            continue
        for rec in mapped if isinstance(mapped, list) else [mapped]:
            rec["source_line"] = source_line
            records.append(rec)
    rec_frame = (
        pl.DataFrame(records, schema={**CANONICAL_SCHEMA, "source_line": pl.Int64()}, strict=False)
        if records
        else ParsedBatch.empty_records()
    )
    q_frame = pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA) if quarantine else ParsedBatch.empty_quarantine()
    return ParsedBatch(records=rec_frame, quarantine=q_frame, skipped=skipped)


def resolve_outcome(found: list[tuple[str, object]], tags: list[str], rules: OutcomeRules) -> str | None:
    """A session outcome from the first configured metadata key present (`found` holds (field, value)
    pairs in `rules.metadata_keys` order), else from request tags; None when nothing says so."""
    for field_name, value in found:
        if not isinstance(value, str) or value.lower() not in OUTCOMES:
            raise FieldError(field_name, f"expected one of {', '.join(OUTCOMES)}, got {value!r}")
        return value.lower()
    if set(tags) & set(rules.escalated_tags):
        return "escalated"
    if set(tags) & set(rules.abandoned_tags):
        return "abandoned"
    return None


# OpenAI-style keys a replayed conversation needs besides role and content: an assistant's tool calls and a
# tool message's answer to one (a "tool" message without the call it answers is refused by chat APIs)
_TOOL_KEYS = {"tool_calls": list, "tool_call_id": str, "name": str}


def message_list(value: object, field: str, content_text: Callable[[dict, str], str | None]) -> list[dict]:
    """A non-empty list of {role, content} from a log's messages; `content_text(message, field)` turns one
    message's content (string, parts, ...) into text. Tool-calling keys (`tool_calls`, `tool_call_id`,
    `name`) are kept when present with their usual types. Errors name the exact message and field."""
    if not isinstance(value, list):
        raise FieldError(field, f"expected a list of messages, got {type(value).__name__}")
    out = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise FieldError(f"{field}[{i}]", f"expected an object, got {type(message).__name__}")
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise FieldError(f"{field}[{i}].role", f"expected a non-empty string, got {role!r}")
        kept = {"role": role, "content": content_text(message, f"{field}[{i}]") or ""}
        kept.update({key: message[key] for key, kind in _TOOL_KEYS.items() if isinstance(message.get(key), kind)})
        out.append(kept)
    return out


_PARTIAL_TOKEN = re.compile(r"""[^\s"',;:()\[\]{}<>]*$""")


def clip(text: str, limit: int = 60) -> str:
    """`text` cut to about `limit` characters for an error message. The cut drops the token it would split,
    so no half e-mail address or key is left for redaction to miss (redaction runs on the whole message)."""
    if len(text) <= limit:
        return text
    return _PARTIAL_TOKEN.sub("", text[: limit - 3]) + "..."


def non_negative_number(obj: dict, key: str) -> float | None:
    """`obj[key]` as a float >= 0, None when absent or null; anything else is a FieldError naming the key."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise FieldError(key, f"expected a number >= 0, got {value!r}")
    return float(value)


def non_negative_count(obj: dict, keys: tuple[str, ...]) -> int | None:
    """The first of `keys` present and non-null in `obj`, as an integer >= 0 (2.0 is 2); None when none is."""
    key = next((k for k in keys if obj.get(k) is not None), None)
    if key is None:
        return None
    value = obj[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FieldError(key, f"expected an integer >= 0, got {value!r}")
    return value
