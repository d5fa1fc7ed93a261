"""Ingestion of log lines produced by the real libraries (fixtures/real/README.md says how)."""

import json
import re
from pathlib import Path

import polars as pl
import pytest

from eval_platform.config import load_config
from eval_platform.ingest.file_ingest import ingest_file

REAL = Path(__file__).parent / "fixtures" / "real"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
OTEL_RUNS = ("v2_latest_spanonly", "traceloop", "traceloop_legacy")


def _ingest(name: str, tmp_path: Path):
    """The full per-file path (read, map, redact, account) with the format forced, as `check-logs --format`."""
    config = load_config()
    fmt = "litellm" if name.startswith("litellm") else "otel"
    config = config.model_copy(update={"ingest": config.ingest.model_copy(update={"format": fmt})})
    return ingest_file(REAL / name, REAL, config)


def _no_email_anywhere(*frames: pl.DataFrame) -> None:
    for frame in frames:
        for column, dtype in frame.schema.items():
            values = frame.get_column(column).drop_nulls().to_list()
            if dtype == pl.String:
                found = [v for v in values if EMAIL.search(v)]
            elif dtype == pl.List(pl.String):
                found = [v for row in values for v in row if v and EMAIL.search(v)]
            else:
                continue
            assert not found, f"{column}: {found[:3]}"


def test_every_real_litellm_payload_lands_with_its_identity_path_and_model(tmp_path):
    result = _ingest("litellm_1.110.2_callbacks.jsonl", tmp_path)
    payloads = [json.loads(line) for line in (REAL / "litellm_1.110.2_callbacks.jsonl").read_text().splitlines()]
    labels = [json.loads(line)["label"] for line in (REAL / "litellm_1.110.2_callbacks.labels.jsonl").read_text().splitlines()]
    assert result.stats["lines"] == len(payloads) == 33
    assert result.quarantine.is_empty(), result.quarantine["error"].to_list()
    rows = {r["source_line"]: r for r in result.records.iter_rows(named=True)}
    assert sorted(rows) == list(range(1, 34))
    for line, (payload, label) in enumerate(zip(payloads, labels, strict=True), start=1):
        row, response = rows[line], payload.get("response")
        assert row["record_id"] == payload["litellm_call_id"], label
        # the group that served it; an SDK call made without a Router logs model_group "" -> the model asked for
        assert row["routing_path"] == (payload["model_group"] or payload["model"]), label
        responded = response.get("model") if isinstance(response, dict) else None
        assert row["served_model"] == (responded or payload["model"]), label
        assert row["status"] == ("ok" if payload["status"] == "success" else "error"), label
    # requests rescued by a fallback are recognisable; the failed first attempt is kept as an error record
    assert [rows[n]["route_reason"] for n in (10, 18, 32)] == ["fallback"] * 3
    assert [(rows[n]["routing_path"], rows[n]["status"]) for n in (9, 17, 31)] == [
        ("group-a", "error"), ("group-a", "error"), ("support", "error")]
    assert rows[10]["session_id"] == rows[9]["session_id"]  # the two hops of one request, one session
    assert rows[16]["session_id"] == "sess-corr-1"  # the payload's own session_id comes first
    # a tool round trip keeps the call its tool message answers
    tool_turns = [json.loads(rows[n]["messages"]) for n, label in enumerate(labels, start=1) if "tool" in label]
    assert tool_turns and all(any("tool_calls" in m for m in msgs) for msgs in tool_turns)
    _no_email_anywhere(result.records, result.quarantine)


@pytest.mark.parametrize("run", OTEL_RUNS)
def test_real_otel_spans_land_the_same_whatever_the_export_format(run, tmp_path):
    exports = [p.name for p in sorted(REAL.glob(f"otel_{run}.*.jsonl"))]
    assert len(exports) >= 2
    keys = ["record_id", "session_id", "routing_path", "served_model", "status", "input_tokens", "output_tokens"]
    landed = {}
    for name in exports:
        result = _ingest(name, tmp_path)
        assert result.quarantine.is_empty(), (name, result.quarantine["error"].to_list())
        # five model calls; the agent, tool and HTTP spans are skipped (a one-line batch counts its line once)
        assert result.records.height == 5, name
        assert result.stats["skipped"] == (0 if "batch" in name else 3), name
        landed[name] = result.records.select(keys).sort("record_id")
        _no_email_anywhere(result.records)
    first, *others = landed.values()
    for name, frame in landed.items():
        assert frame.equals(first), name  # hex, 0x-hex and base64 ids give one record id and session per span
    assert first["session_id"].unique().to_list() == [f"sess-{'v2' if run.startswith('v2') else 'traceloop'}-42"]
    assert sorted(first["status"].to_list()) == ["error", "ok", "ok", "ok", "ok"]


def test_spans_without_captured_content_are_quarantined_with_the_reason(tmp_path):
    result = _ingest("otel_v2_default_true.otlp_hex.jsonl", tmp_path)
    assert result.records.is_empty() and result.quarantine.height == 5 and result.stats["skipped"] == 3
    assert all("enable content capture" in e for e in result.quarantine["error"].to_list())
