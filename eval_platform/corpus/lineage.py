"""Lineage: from a failing score back to the exact log line it came from.

`failure_lineage` (a view) has one row per failing score: offline rows follow eval_scores ->
eval_responses -> corpus_items (the item as it was in the response's own corpus version) ->
log_records of the replayed turn; online rows follow online_scores -> log_records. `lineage_chain`
walks the same hops for one id and reads each source record's line back from its landing file.
"""

from __future__ import annotations

import gzip
import unicodedata
from itertools import islice
from pathlib import Path

import duckdb
import polars as pl

FAILURE_LINEAGE_BODY = """
SELECT 'offline' AS source, s.scorer, c.routing_path, r.model, s.response_id, c.record_id,
       c.corpus_item_id, c.session_id, l.source_file, l.source_line, s.explanation,
       c.corpus_version, s.scorer_version, s.score, c.reason
FROM eval_scores s
JOIN eval_responses r ON r.response_id = s.response_id
JOIN corpus_items c
  ON c.corpus_item_id = r.corpus_item_id AND c.corpus_version = coalesce(r.corpus_version, s.corpus_version)
LEFT JOIN log_records l ON l.record_id = c.record_id   -- golden items have no source record
WHERE s.passed = false
UNION ALL
SELECT 'online' AS source, o.scorer, o.routing_path, o.served_model AS model, NULL AS response_id, o.record_id,
       NULL AS corpus_item_id, l.session_id, l.source_file, l.source_line, o.explanation,
       NULL AS corpus_version, o.scorer_version, o.score, NULL AS reason
FROM online_scores o
LEFT JOIN log_records l ON l.record_id = o.record_id
WHERE o.passed = false
"""
FAILURE_LINEAGE_SQL = f"CREATE OR REPLACE VIEW failure_lineage AS {FAILURE_LINEAGE_BODY}"

RESPONSE_PREVIEW_CHARS = 300


class SourceLineError(LookupError):
    """A lineage line that cannot be read back; the message names the file and line."""


def read_source_line(landing_root: Path, source_file: str, source_line: int) -> str:
    """The physical line `source_line` (1-based) of `landing_root/source_file`, as ingest numbered it:
    lines split on "\\n" with a trailing "\\r" dropped, .gz decompressed, a Parquet row as one JSON object."""
    root = Path(landing_root).resolve()
    path = (root / source_file).resolve()
    if not path.is_relative_to(root):  # a stored path must never read outside landing/
        raise SourceLineError(f"{source_file}:{source_line}: path is outside the landing directory {root}")
    if not path.is_file():
        raise SourceLineError(f"{source_file}:{source_line}: landing file is gone (looked for {path})")
    if source_line < 1:
        raise SourceLineError(f"{source_file}:{source_line}: line numbers start at 1")
    if path.suffix.lower() == ".parquet":
        row = pl.scan_parquet(path).slice(source_line - 1, 1).collect()
        if row.height == 0:
            raise SourceLineError(f"{source_file}:{source_line}: out of range (the file has fewer rows)")
        return row.select(pl.struct(pl.all()).struct.json_encode()).item()
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        line = next(islice(handle, source_line - 1, None), None)  # binary iteration splits on b"\n" only
    if line is None:
        raise SourceLineError(f"{source_file}:{source_line}: out of range (the file has fewer lines)")
    return line.rstrip(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    return conn.sql(sql, params=params).pl().to_dicts()


def _record_hops(conn: duckdb.DuckDBPyConnection, record_ids: list[str], replayed: str | None, landing_root: Path) -> list[dict]:
    if not record_ids:
        return []
    records = _rows(
        conn,
        "SELECT record_id, session_id, turn, routing_path, served_model, status, source_file, source_line "
        "FROM log_records WHERE list_contains(?, record_id)",
        [record_ids],
    )
    by_id = {r["record_id"]: r for r in records}
    hops = []
    for rid in record_ids:
        hop = {"hop": "record", "record_id": rid, "replayed": rid == replayed, **by_id.get(rid, {})}
        if rid not in by_id:
            hop["log_line_error"] = f"record {rid} is not in log_records"
        else:
            try:
                hop["log_line"] = read_source_line(landing_root, hop["source_file"], hop["source_line"])
            except SourceLineError as exc:
                hop["log_line_error"] = str(exc)
        hops.append(hop)
    return hops


def _item_hops(conn: duckdb.DuckDBPyConnection, corpus_item_id: str, version: str | None, landing_root: Path) -> list[dict]:
    items = _rows(
        conn,
        "SELECT corpus_item_id, corpus_version, routing_path, session_id, record_id, source_record_ids, reason, task_type "
        "FROM corpus_items WHERE corpus_item_id = ? AND (? IS NULL OR corpus_version = ?) "
        "ORDER BY created_at DESC NULLS LAST, corpus_version LIMIT 1",
        [corpus_item_id, version, version],
    )
    if not items:
        return []
    item = items[0]
    return [{"hop": "corpus_item", **item}] + _record_hops(conn, item["source_record_ids"] or [], item["record_id"], landing_root)


def _scores(conn: duckdb.DuckDBPyConnection, table: str, key: str, value: str) -> list[dict]:
    # table and key come from the two fixed calls below, never from input
    rows = _rows(
        conn,
        f"SELECT scorer, scorer_version, passed, score, explanation FROM {table} WHERE {key} = ? "
        "ORDER BY passed NULLS LAST, scorer",
        [value],
    )
    return [{"hop": "score", "source": "offline" if table == "eval_scores" else "online", **r} for r in rows]


def _response_hops(conn: duckdb.DuckDBPyConnection, response: dict) -> list[dict]:
    """A response's scores and the response itself (no item, record or file reads)."""
    text = response.pop("response") or ""
    response["response_preview"] = text[:RESPONSE_PREVIEW_CHARS]
    return _scores(conn, "eval_scores", "response_id", response["response_id"]) + [{"hop": "response", **response}]


def lineage_chain(conn: duckdb.DuckDBPyConnection, any_id: str, landing_root: Path) -> list[dict]:
    """The hops from `any_id` (a response_id, corpus_item_id or record_id) down to file:line.

    Each hop is a dict with `hop` in score / response / corpus_item / record; record hops carry the
    original `log_line` (or `log_line_error`). An unknown id gives an empty list.
    """
    response_sql = (
        "SELECT response_id, eval_run_id, corpus_version, corpus_item_id, routing_path, model, status, error, "
        "response, cached FROM eval_responses WHERE {} ORDER BY created_at DESC NULLS LAST, response_id"
    )
    responses = _rows(conn, response_sql.format("response_id = ?"), [any_id])
    if responses:
        response = responses[0]
        return _response_hops(conn, response) + _item_hops(conn, response["corpus_item_id"], response["corpus_version"], landing_root)
    if _rows(conn, "SELECT 1 AS hit FROM corpus_items WHERE corpus_item_id = ? LIMIT 1", [any_id]):
        chain: list[dict] = []
        failing = _rows(
            conn,
            response_sql.format("corpus_item_id = ? AND response_id IN (SELECT response_id FROM eval_scores WHERE NOT passed)"),
            [any_id],
        )
        for response in failing:  # the item and its records are read once, below, not once per response
            chain += _response_hops(conn, response)
        return chain + _item_hops(conn, any_id, None, landing_root)
    if _rows(conn, "SELECT 1 AS hit FROM log_records WHERE record_id = ? LIMIT 1", [any_id]):
        chain = _scores(conn, "online_scores", "record_id", any_id)
        items = _rows(conn, "SELECT DISTINCT corpus_item_id FROM corpus_items WHERE record_id = ? ORDER BY 1", [any_id])
        chain += [{"hop": "corpus_item", **i} for i in items]
        return chain + _record_hops(conn, [any_id], any_id, landing_root)
    return []


def _safe(value: object) -> str:
    """Log text made safe for a terminal: control characters (ANSI escapes, ...) shown escaped."""
    text = "" if value is None else str(value)
    return "".join(ch if unicodedata.category(ch)[0] != "C" else f"\\x{ord(ch):02x}" for ch in text)


def _redacted(line: str) -> str:
    """The line as the warehouse would hold it: PII redacted (escaped addresses included, see redact.py)."""
    from eval_platform.ingest.redact import redact_frame

    return redact_frame(pl.DataFrame({"raw": [line]}), ["raw"]).item()


def format_chain(chain: list[dict], *, raw: bool = False) -> str:
    """The chain as indented text for `eval-platform lineage ID`. Landing lines are shown redacted, as the
    warehouse holds them (the landing file itself is never redacted); `raw=True` shows them as they are."""
    if not chain:
        return "no response, corpus item or record with that id"
    lines = []
    for hop in chain:
        kind = hop["hop"]
        if kind == "score":
            verdict = {True: "pass", False: "FAIL", None: "n/a"}[hop["passed"]]
            lines.append(f"score     [{hop['source']}] {_safe(hop['scorer'])} {verdict}: {_safe(hop['explanation'])}")
        elif kind == "response":
            lines.append(
                f"response  {_safe(hop['response_id'])}  model {_safe(hop['model'])}  status {_safe(hop['status'])}"
                f"  run {_safe(hop['eval_run_id'])}\n          {_safe(hop['response_preview'])}"
            )
        elif kind == "corpus_item":
            lines.append(
                f"item      {_safe(hop['corpus_item_id'])}  version {_safe(hop.get('corpus_version'))}"
                f"  path {_safe(hop.get('routing_path'))}  reason {_safe(hop.get('reason'))}  session {_safe(hop.get('session_id'))}"
            )
        else:
            mark = "replayed" if hop.get("replayed") else "context"
            where = f"{_safe(hop.get('source_file'))}:{hop.get('source_line')}"
            lines.append(f"record    {_safe(hop['record_id'])}  turn {hop.get('turn')}  ({mark})  {where}")
            if "log_line" in hop:
                lines.append(f"          {_safe(hop['log_line'] if raw else _redacted(hop['log_line']))}")
            else:
                lines.append(f"          ERROR {_safe(hop['log_line_error'])}")
    return "\n".join(lines)
