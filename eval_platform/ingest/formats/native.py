"""The native log format (README "Native log format", `native_schema.json`), parsed in one DuckDB query.

Each line is parsed once (one multi-path `json_extract` under `TRY`; `json_valid` only names the problem
of a line that failed; `messages` once more into structs); every field's JSON type is read from its
minified text, values go through `TRY_CAST`, and every problem on a line is reported (`line 17: field 'turn': expected integer >= 1, got string "two"`). Good lines
become canonical rows. No Python per line.
"""

from __future__ import annotations

import duckdb
import polars as pl

from eval_platform.ingest.formats.base import (
    CANONICAL_SCHEMA,
    OUTCOMES,
    QUARANTINE_SCHEMA,
    STATUSES,
    AdapterContext,
    ParsedBatch,
)

FORMAT = "native"
ROLES = ("system", "user", "assistant", "tool")

# field name -> JSON path; the position in this tuple is the index into the extracted list (1-based in SQL)
_FIELDS = (
    "request_id", "ts", "session_id", "turn", "routing_path", "served_model", "route_reason", "task_type",
    "messages", "response", "status", "error", "latency_ms", "cost_usd", "usage", "usage.input_tokens",
    "usage.output_tokens", "user_outcome", "tags", "retrieved_sources",
)
_PATHS = [f"$.{name}" for name in _FIELDS]
_UNPACK = ", ".join(f"v[{i}] AS j_{name.replace('.', '_')}" for i, name in enumerate(_FIELDS, start=1))


def looks_like(obj: dict) -> bool:
    """A native line carries session_id, turn, routing_path and a messages array at the top level."""
    return (
        isinstance(obj, dict)
        and "session_id" in obj
        and "routing_path" in obj
        and "turn" in obj
        and isinstance(obj.get("messages"), list)
    )


def _f(name: str) -> str:
    return "j_" + name.replace(".", "_")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # fixed constants of this module, never log text


# Reusable checks; `j` is a JSON value (NULL = key absent, 'null' = JSON null). Types come from the first
# character of the (minified) JSON text, which costs no parse.
_MACROS = r"""
CREATE OR REPLACE TEMP MACRO jt(j) AS CASE left(j::VARCHAR, 1)
    WHEN '"' THEN 'string' WHEN '{' THEN 'object' WHEN '[' THEN 'array' WHEN 'n' THEN 'null'
    WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean'
    ELSE CASE WHEN regexp_full_match(j::VARCHAR, '-?[0-9]+') THEN 'integer' ELSE 'number' END END;
CREATE OR REPLACE TEMP MACRO got(j) AS 'got ' || jt(j) || CASE
    WHEN jt(j) IN ('object', 'array', 'null') THEN ''
    -- the cut drops the token it would split: no half e-mail address is left for redaction to miss
    WHEN length(j::VARCHAR) > 60 THEN ' ' || regexp_replace(left(j::VARCHAR, 57), '[^\s"'',;:()\[\]{}<>]*$', '') || '...'
    ELSE ' ' || j::VARCHAR END;
CREATE OR REPLACE TEMP MACRO is_str(j) AS starts_with(j::VARCHAR, '"');
CREATE OR REPLACE TEMP MACRO is_null(j) AS j IS NULL OR j::VARCHAR = 'null';
CREATE OR REPLACE TEMP MACRO is_int(j) AS regexp_full_match(j::VARCHAR, '-?[0-9]+');
CREATE OR REPLACE TEMP MACRO is_num(j) AS regexp_full_match(j::VARCHAR, '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?');
CREATE OR REPLACE TEMP MACRO str(j) AS CASE WHEN starts_with(j::VARCHAR, '"') THEN json_extract_string(j, '$') END;
CREATE OR REPLACE TEMP MACRO fld(name, problem) AS 'field ''' || name || ''': ' || problem;
CREATE OR REPLACE TEMP MACRO need_text(j, name) AS CASE
    WHEN j IS NULL THEN fld(name, 'missing')
    WHEN NOT is_str(j) OR j::VARCHAR = '""' THEN fld(name, 'expected non-empty string, ' || got(j)) END;
CREATE OR REPLACE TEMP MACRO opt_text(j, name) AS CASE
    WHEN NOT is_null(j) AND NOT is_str(j) THEN fld(name, 'expected string or null, ' || got(j)) END;
CREATE OR REPLACE TEMP MACRO opt_amount(j, name) AS CASE
    WHEN NOT is_null(j) AND (NOT is_num(j) OR starts_with(j::VARCHAR, '-'))
    THEN fld(name, 'expected number >= 0, ' || got(j)) END;
CREATE OR REPLACE TEMP MACRO opt_count(j, name) AS CASE
    WHEN NOT is_null(j) AND (NOT is_int(j) OR starts_with(j::VARCHAR, '-') OR TRY_CAST(j::VARCHAR AS BIGINT) IS NULL)
    THEN fld(name, 'expected integer >= 0, ' || got(j)) END;
CREATE OR REPLACE TEMP MACRO opt_enum(j, name, allowed) AS CASE
    WHEN NOT is_null(j) AND (NOT is_str(j) OR NOT list_contains(allowed, str(j)))
    THEN fld(name, 'expected one of ' || array_to_string(allowed, ', ') || ' or null, ' || got(j)) END;
CREATE OR REPLACE TEMP MACRO opt_strings(j, name) AS CASE
    WHEN is_null(j) THEN NULL
    WHEN jt(j) <> 'array' THEN fld(name, 'expected array of strings, ' || got(j))
    WHEN NOT list_bool_and(list_transform(json_transform(j, '["JSON"]'), lambda x: coalesce(is_str(x), false)))
    THEN fld(name, 'expected array of strings, got an array with a non-string element') END;
"""

_QUERY = f"""
WITH parsed AS (
    -- one parse per line: TRY turns a malformed line into NULL instead of failing the batch
    SELECT source_line, raw, line_error,
        CASE WHEN line_error IS NULL AND (left(raw, 1) = '{{' OR left(ltrim(raw), 1) = '{{')
             THEN TRY(json_extract(raw, $paths)) END AS v
    FROM line_frame
),
extracted AS (
    SELECT source_line, raw, v,
        CASE WHEN line_error IS NOT NULL THEN line_error
             WHEN raw IS NULL THEN 'empty line'
             WHEN v IS NOT NULL THEN NULL
             WHEN NOT json_valid(raw) THEN CASE WHEN trim(raw) = '' THEN 'empty line' ELSE 'not valid JSON' END
             WHEN NOT (left(raw, 1) = '{{' OR left(ltrim(raw), 1) = '{{') THEN 'expected a JSON object, ' || got(raw::JSON)
             ELSE 'not valid JSON'
        END AS line_problem
    FROM parsed
),
fields AS (
    SELECT source_line, raw, line_problem, {_UNPACK}
    FROM extracted
),
checked AS (
    SELECT *,
        CASE WHEN jt({_f("messages")}) = 'array'
             THEN json_transform({_f("messages")}, '[{{"role": "VARCHAR", "content": "JSON"}}]') END AS msgs,
        TRY_CAST(str({_f("ts")}) AS TIMESTAMPTZ) AS ts_utc
    FROM fields
),
elements AS (
    SELECT *,
        list_position(list_transform(msgs, lambda m: coalesce(list_contains([{_sql_list(ROLES)}], m.role), false)), false) AS bad_role_at,
        list_position(list_transform(msgs, lambda m: coalesce(is_null(m.content) OR is_str(m.content), false)), false) AS bad_content_at
    FROM checked
),
judged AS (
    SELECT *,
        CASE WHEN line_problem IS NOT NULL THEN line_problem ELSE nullif(concat_ws('; ',
            CASE WHEN NOT is_null({_f("request_id")}) AND (NOT is_str({_f("request_id")}) OR {_f("request_id")}::VARCHAR = '""')
                 THEN fld('request_id', 'expected non-empty string or null, ' || got({_f("request_id")})) END,
            CASE WHEN {_f("ts")} IS NULL THEN fld('ts', 'missing')
                 WHEN NOT is_str({_f("ts")}) OR ts_utc IS NULL
                 THEN fld('ts', 'expected ISO 8601 timestamp string, ' || got({_f("ts")})) END,
            need_text({_f("session_id")}, 'session_id'),
            CASE WHEN {_f("turn")} IS NULL THEN fld('turn', 'missing')
                 WHEN NOT is_int({_f("turn")}) OR coalesce(TRY_CAST({_f("turn")}::VARCHAR AS INTEGER) < 1, true)
                 THEN fld('turn', 'expected integer >= 1, ' || got({_f("turn")})) END,
            need_text({_f("routing_path")}, 'routing_path'),
            need_text({_f("served_model")}, 'served_model'),
            opt_text({_f("route_reason")}, 'route_reason'),
            opt_text({_f("task_type")}, 'task_type'),
            CASE WHEN {_f("messages")} IS NULL THEN fld('messages', 'missing')
                 WHEN jt({_f("messages")}) <> 'array' OR len(msgs) = 0
                 THEN fld('messages', 'expected non-empty array of messages, ' || got({_f("messages")}) ||
                          CASE WHEN jt({_f("messages")}) = 'array' THEN ' (empty)' ELSE '' END) END,
            CASE WHEN bad_role_at > 0
                 THEN fld('messages[' || (bad_role_at - 1) || '].role',
                          'expected one of {", ".join(ROLES)}, ' ||
                          coalesce('got "' || left(msgs[bad_role_at].role, 40) || '"', 'got nothing (missing, or the element is not an object)')) END,
            CASE WHEN bad_content_at > 0
                 THEN fld('messages[' || (bad_content_at - 1) || '].content',
                          'expected string or null, ' || got(msgs[bad_content_at].content)) END,
            opt_text({_f("response")}, 'response'),
            CASE WHEN {_f("status")} IS NULL THEN fld('status', 'missing')
                 WHEN NOT is_str({_f("status")}) OR str({_f("status")}) NOT IN ({_sql_list(STATUSES)})
                 THEN fld('status', 'expected one of {", ".join(STATUSES)}, ' || got({_f("status")})) END,
            opt_text({_f("error")}, 'error'),
            opt_amount({_f("latency_ms")}, 'latency_ms'),
            opt_amount({_f("cost_usd")}, 'cost_usd'),
            CASE WHEN NOT is_null({_f("usage")}) AND jt({_f("usage")}) <> 'object'
                 THEN fld('usage', 'expected object or null, ' || got({_f("usage")})) END,
            opt_count({_f("usage.input_tokens")}, 'usage.input_tokens'),
            opt_count({_f("usage.output_tokens")}, 'usage.output_tokens'),
            opt_enum({_f("user_outcome")}, 'user_outcome', [{_sql_list(OUTCOMES)}]),
            opt_strings({_f("tags")}, 'tags'),
            opt_strings({_f("retrieved_sources")}, 'retrieved_sources')
        ), '') END AS problem
    FROM elements
)
SELECT
    source_line,
    CASE WHEN problem IS NOT NULL THEN raw END AS raw,
    CASE WHEN problem IS NOT NULL THEN 'line ' || source_line || ': ' || problem END AS line_error,
    CAST(ts_utc AS DATE) AS day,
    CASE WHEN problem IS NULL THEN coalesce(
        CASE WHEN is_str({_f("request_id")}) THEN str({_f("request_id")}) END,
        CASE WHEN $content_hash <> '' THEN left(sha256($content_hash || ':' || source_line), 32) END) END AS record_id,
    CAST(ts_utc AS TIMESTAMP) AS ts,
    str({_f("session_id")}) AS session_id,
    TRY_CAST({_f("turn")}::VARCHAR AS INTEGER) AS turn,
    str({_f("routing_path")}) AS routing_path,
    str({_f("served_model")}) AS served_model,
    str({_f("route_reason")}) AS route_reason,
    str({_f("task_type")}) AS task_type,
    {_f("messages")}::VARCHAR AS messages,
    str(list_filter(msgs, lambda m: m.role = 'user')[-1].content) AS prompt,
    str({_f("response")}) AS response,
    str({_f("status")}) AS status,
    str({_f("error")}) AS error,
    TRY_CAST({_f("latency_ms")}::VARCHAR AS DOUBLE) AS latency_ms,
    TRY_CAST({_f("cost_usd")}::VARCHAR AS DOUBLE) AS cost_usd,
    TRY_CAST({_f("usage.input_tokens")}::VARCHAR AS BIGINT) AS input_tokens,
    TRY_CAST({_f("usage.output_tokens")}::VARCHAR AS BIGINT) AS output_tokens,
    str({_f("user_outcome")}) AS user_outcome,
    CASE WHEN jt({_f("tags")}) = 'array' THEN json_transform({_f("tags")}, '["VARCHAR"]') END AS tags,
    CASE WHEN jt({_f("retrieved_sources")}) = 'array'
         THEN json_transform({_f("retrieved_sources")}, '["VARCHAR"]') END AS retrieved_sources
FROM judged  -- insertion order is preserved: no ORDER BY, no sort of the messages
"""

def fallback_record_ids(content_hash: str, source_lines: pl.Series) -> pl.Series:
    """The stable record_id of lines without `request_id`: sha256(content_hash + ":" + line)[:32]."""
    with duckdb.connect() as conn:
        conn.register("lines", source_lines.to_frame("source_line").to_arrow())
        ids = conn.sql("SELECT left(sha256($h || ':' || source_line), 32) AS record_id FROM lines",
                       params={"h": content_hash}).pl()
    return ids.get_column("record_id")


def parse(lines: pl.DataFrame, ctx: AdapterContext) -> ParsedBatch:
    """Map native-format lines to canonical records; every other line is quarantined with its reasons.

    A line without `request_id` gets `record_id = fallback_record_ids(content_hash, source_line)`; with an empty
    `ctx.content_hash` (file not hashed yet) it stays null and the caller fills it in.
    """
    if "line_error" not in lines.columns:
        lines = lines.with_columns(line_error=pl.lit(None, pl.String))
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")  # a timestamp without an offset is read as UTC
        conn.execute(_MACROS)
        # string_view Arrow is zero-copy from polars and DuckDB scans it directly (the default converts)
        frame = lines.select("source_line", "raw", "line_error").to_arrow(compat_level=pl.CompatLevel.newest())
        conn.register("line_frame", frame)
        parsed = conn.sql(_QUERY, params={"paths": _PATHS, "content_hash": ctx.content_hash}).pl()
    finally:
        conn.close()
    failed = pl.col("line_error").is_not_null()
    quarantine = parsed.filter(failed).with_columns(error="line_error").select(
        pl.col(name).cast(dtype) for name, dtype in QUARANTINE_SCHEMA.items()
    )
    records = parsed.filter(~failed).select(
        *(pl.col(name).cast(dtype) for name, dtype in CANONICAL_SCHEMA.items()), pl.col("source_line").cast(pl.Int64)
    )
    return ParsedBatch(records=records, quarantine=quarantine)
