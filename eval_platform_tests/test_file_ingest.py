"""ingest_file: formats, accounting, lineage, redaction, stable ids, file_day."""

import gzip
import json
from datetime import date
from pathlib import Path

import polars as pl

from eval_platform.config import PlatformConfig
from eval_platform.ingest.detect import detect_format
from eval_platform.ingest.file_ingest import file_sha256, ingest_file
from eval_platform.ingest.lines import read_lines

CONFIG = PlatformConfig(partition_start=date(2026, 11, 1))


def native(i: int, **changes) -> dict:
    obj = {
        "request_id": f"req_{i}", "ts": f"2026-11-20T0{i % 10}:00:00Z", "session_id": f"s_{i // 2}", "turn": i % 2 + 1,
        "routing_path": "primary", "served_model": "demo/primary-large", "task_type": "small_talk",
        "messages": [{"role": "user", "content": f"hello {i}, mail me at user{i}@example.com"}],
        "response": "call 555-123-4567", "status": "ok", "latency_ms": 10.0,
    }
    obj.update(changes)
    return obj


def write_jsonl(path, lines: list[str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_native_file_records_quarantine_and_stats(tmp_path):
    landing = tmp_path / "landing"
    path = write_jsonl(landing / "2026-11-20" / "gw.jsonl",
                       [json.dumps(native(1)), "{broken", json.dumps(native(2, turn="x")), "", json.dumps(native(3))])
    result = ingest_file(path, landing, CONFIG)
    assert result.stats == {"source_file": "2026-11-20/gw.jsonl", "content_hash": file_sha256(path), "format": "native",
                            "lines": 5, "records": 2, "quarantined": 3, "skipped": 0}
    records = result.records
    assert records.get_column("source_line").to_list() == [1, 5]
    assert set(records.get_column("source_file")) == {"2026-11-20/gw.jsonl"}
    assert set(records.get_column("source_format")) == {"native"}
    assert records.get_column("day").to_list() == [date(2026, 11, 20)] * 2
    assert {"record_id", "ts", "messages", "content_hash", "day"} <= set(records.columns)
    assert result.quarantine.columns == ["source_file", "source_line", "day", "raw", "error", "source_format", "content_hash"]
    assert result.quarantine.get_column("error").to_list() == [
        "line 2: not valid JSON", "line 3: field 'turn': expected integer >= 1, got string \"x\"", "line 4: empty line"]


def test_records_and_quarantine_are_redacted(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [json.dumps(native(1)), json.dumps(native(2, turn="secret@corp.com"))])
    result = ingest_file(path, tmp_path, CONFIG)
    row = result.records.row(0, named=True)
    assert "example.com" not in row["messages"] and "[EMAIL]" in row["messages"]
    assert row["prompt"] == "hello 1, mail me at [EMAIL]" and row["response"] == "call [PHONE]"
    quarantined = result.quarantine.row(0, named=True)
    assert "corp.com" not in quarantined["raw"] and "corp.com" not in quarantined["error"]


def test_gzip_and_parquet_inputs_match_plain_jsonl(tmp_path):
    lines = [json.dumps(native(i)) for i in range(5)]
    plain = write_jsonl(tmp_path / "a.jsonl", lines)
    zipped = tmp_path / "b.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    parquet = tmp_path / "c.parquet"
    pl.DataFrame([native(i) for i in range(5)]).write_parquet(parquet)
    frames = [ingest_file(p, tmp_path, CONFIG) for p in (plain, zipped, parquet)]
    for result in frames:
        assert result.stats["records"] == 5 and result.stats["quarantined"] == 0
    columns = ["record_id", "ts", "session_id", "turn", "prompt", "response"]
    assert frames[0].records.select(columns).equals(frames[1].records.select(columns))
    assert frames[0].records.select(columns).equals(frames[2].records.select(columns))


def test_unknown_format_is_quarantined_whole(tmp_path):
    path = write_jsonl(tmp_path / "weird.jsonl", ['{"foo": 1}', '{"bar": 2}', "not json"])
    result = ingest_file(path, tmp_path, CONFIG)
    assert result.records.height == 0
    assert result.stats["quarantined"] == 3 and result.stats["lines"] == 3 and result.stats["format"] == "unknown"
    errors = result.quarantine.get_column("error").to_list()
    assert all("unknown log format" in e for e in errors)
    assert errors[0].startswith("line 1: ")


def test_configured_format_overrides_detection(tmp_path):
    config = PlatformConfig(partition_start=date(2026, 11, 1), ingest={"format_by_glob": {"forced/*": "native"}})
    path = write_jsonl(tmp_path / "forced" / "f.jsonl", ['{"foo": 1}', json.dumps(native(1))])
    result = ingest_file(path, tmp_path, config)
    assert result.stats["format"] == "native" and result.stats["records"] == 1
    assert "field 'ts': missing" in result.quarantine.item(0, "error")


def test_record_id_is_stable_across_rereads(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [json.dumps({k: v for k, v in native(i).items() if k != "request_id"})
                                              for i in range(4)])
    first = ingest_file(path, tmp_path, CONFIG).records.get_column("record_id").to_list()
    second = ingest_file(path, tmp_path, CONFIG).records.get_column("record_id").to_list()
    assert first == second and len(set(first)) == 4


def test_record_id_fallback_is_the_same_whether_hashed_before_or_while_reading(tmp_path):
    import hashlib

    lines = [json.dumps(native(1)), json.dumps({k: v for k, v in native(2).items() if k != "request_id"})]
    plain = write_jsonl(tmp_path / "f.jsonl", lines)
    zipped = tmp_path / "g.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, zipped):
        content_hash = file_sha256(path)
        expected = ["req_1", hashlib.sha256(f"{content_hash}:2".encode()).hexdigest()[:32]]
        while_reading = ingest_file(path, tmp_path, CONFIG)
        given = ingest_file(path, tmp_path, CONFIG, content_hash=content_hash)
        for result in (while_reading, given):
            assert result.records.get_column("record_id").to_list() == expected
            assert result.stats["content_hash"] == content_hash
            assert result.records.get_column("content_hash").unique().to_list() == [content_hash]


def test_duplicate_request_ids_keep_the_first_line(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [json.dumps(native(1)), json.dumps(native(2)), json.dumps(native(1))])
    result = ingest_file(path, tmp_path, CONFIG)
    assert result.records.get_column("source_line").to_list() == [1, 2]
    assert result.quarantine.item(0, "error") == "line 3: field 'record_id': duplicate of 'req_1' first seen on line 1"
    assert result.stats["lines"] == result.stats["records"] + result.stats["quarantined"]


def test_undecodable_and_long_lines_are_accounted(tmp_path):
    config = PlatformConfig(partition_start=date(2026, 11, 1), ingest={"max_line_bytes": 2000})
    path = tmp_path / "f.jsonl"
    path.write_bytes(json.dumps(native(1)).encode() + b"\n\xff\xfe\n" + b'{"x":"' + b"a" * 3000 + b'"}\n'
                     + json.dumps(native(2)).encode() + b"\n")
    result = ingest_file(path, tmp_path, config)
    assert result.stats["records"] == 2 and result.stats["quarantined"] == 2
    assert result.quarantine.get_column("error").to_list() == [
        "line 2: invalid UTF-8 at byte 1", "line 3: line is 3008 bytes, over max_line_bytes 2000"]


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    result = ingest_file(path, tmp_path, CONFIG)
    assert result.stats["lines"] == 0 and result.records.height == 0 and result.quarantine.height == 0


def test_detect_format_native(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", ["", "{bad", json.dumps(native(1))])
    assert detect_format(read_lines(path, 10_000)) == "native"
    assert detect_format(read_lines(write_jsonl(tmp_path / "g.jsonl", ['{"a": 1}']), 10_000)) is None


def test_pii_hidden_behind_json_escapes_is_still_redacted(tmp_path):
    line = json.dumps(native(1, response="reach me: jane\u0040corp.io")).replace("@", "\\u0040")
    assert "@" not in line
    result = ingest_file(write_jsonl(tmp_path / "f.jsonl", [line]), tmp_path, CONFIG)
    row = result.records.row(0, named=True)
    assert row["response"] == "reach me: [EMAIL]" and row["prompt"] == "hello 1, mail me at [EMAIL]"


def test_many_small_blocks_give_the_same_result_and_hash(tmp_path, monkeypatch):
    """Blocks go through read, map and redact stages concurrently; order, accounting and the hash must not care."""
    import functools

    import eval_platform.ingest.file_ingest as file_ingest_module
    from eval_platform.ingest.lines import iter_line_batches

    lines = [json.dumps(native(i)) for i in range(40)]
    lines[7], lines[20] = "not json", "x" * 5000  # a bad line, and one over max_line_bytes spanning blocks
    path = write_jsonl(tmp_path / "f.jsonl", lines)
    config = CONFIG.model_copy(update={"ingest": CONFIG.ingest.model_copy(update={"max_line_bytes": 4000})})
    whole = ingest_file(path, tmp_path, config)
    monkeypatch.setattr(file_ingest_module, "iter_line_batches", functools.partial(iter_line_batches, block_bytes=2000))
    blocks = ingest_file(path, tmp_path, config)
    assert blocks.stats == whole.stats and blocks.stats["content_hash"] == file_sha256(path)
    assert blocks.records.equals(whole.records) and blocks.quarantine.equals(whole.quarantine)
    assert blocks.quarantine.get_column("source_line").to_list() == [8, 21]
    assert "[EMAIL]" in blocks.records.item(0, "prompt")


_EMAIL_ANYWHERE = r"[\w.+-]+@[\w-]+\.[\w.]+"


def _columns_with_email(frame: pl.DataFrame) -> list[str]:
    texts = frame.select(pl.col(c).cast(pl.List(pl.String)).list.join(" ") if isinstance(t, pl.List) else pl.col(c).cast(pl.String)
                         for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.String)))
    return [c for c in texts.columns if texts.get_column(c).str.contains(_EMAIL_ANYWHERE).any()]


def test_no_email_survives_in_any_record_column(tmp_path):
    """Not only the conversation: error texts, tags, task types, sources and session ids are redacted too."""
    line = native(1, session_id="jane.doe@example.com", status="error", error="quota exceeded for bob@corp.io",
                  task_type="support for ann@x.io", route_reason="vip ann@x.io", tags=["user:ann@x.io", "vip"],
                  retrieved_sources=["mailto:help@acme.example", "https://docs.acme.example/a"])
    other = native(2, session_id="other@example.com")
    path = write_jsonl(tmp_path / "n.jsonl", [json.dumps(line), json.dumps(other)])
    records = ingest_file(path, tmp_path, CONFIG).records
    assert records.height == 2 and _columns_with_email(records) == []
    row = records.row(0, named=True)
    assert row["tags"] == ["user:[EMAIL]", "vip"] and row["error"] == "quota exceeded for [EMAIL]"
    assert row["retrieved_sources"] == ["mailto:[EMAIL]", "https://docs.acme.example/a"]
    sessions = records.get_column("session_id").to_list()
    assert all(s.startswith("[EMAIL]#") for s in sessions) and sessions[0] != sessions[1]  # not merged


def test_no_email_survives_in_litellm_failures(tmp_path):
    payload = json.loads((Path(__file__).parent / "fixtures" / "litellm_proxy_sample.jsonl").read_text().splitlines()[0])
    payload.update(status="failure", error_str="AuthenticationError: key of jane@corp.io revoked",
                   request_tags=["team:ann@x.io"])
    path = write_jsonl(tmp_path / "l.jsonl", [json.dumps(payload)])
    result = ingest_file(path, tmp_path, CONFIG)
    assert result.stats["records"] == 1, result.quarantine.get_column("error").to_list()
    assert _columns_with_email(result.records) == []
    assert result.records.row(0, named=True)["error"] == "AuthenticationError: key of [EMAIL] revoked"
