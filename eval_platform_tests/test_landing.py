import os
from datetime import date

from eval_platform.ingest.landing import file_day, files_by_day, landing_files


def test_file_day_from_name_or_directory():
    assert file_day("native/2026-11-20.jsonl") == date(2026, 11, 20)
    assert file_day("proxy/2026-11-21/req-abc.json") == date(2026, 11, 21)
    assert file_day("proxy/2026-13-45/x.jsonl") is None
    assert file_day("x.jsonl") is None
    assert file_day("proxy/logs-2026-11-21.jsonl.gz") == date(2026, 11, 21)
    assert file_day("2026/11/gateway.jsonl") is None  # a month folder is not a day
    assert file_day("2026-11-20/export-2026-11-22.parquet") == date(2026, 11, 22)  # the last date wins
    assert file_day("bad-2026-13-40.jsonl") is None


def test_file_day_from_the_layouts_exports_use():
    assert file_day("s3/2026/11/21/part-0001.jsonl.gz") == date(2026, 11, 21)
    assert file_day("hive/year=2026/month=11/day=7/spans.jsonl") == date(2026, 11, 7)
    assert file_day("gateway-20261122.jsonl") == date(2026, 11, 22)
    assert file_day("rotated/traces_20261122_235959.ndjson") == date(2026, 11, 22)
    assert file_day("dt=2026-11-23/x.parquet") == date(2026, 11, 23)
    # not dates: an id that only looks like one, a version folder, a number with more digits
    assert file_day("batch_12345678.jsonl") is None
    assert file_day("v2026/11/x.jsonl") is None
    assert file_day("run_202611221.jsonl") is None
    # the last date in the path wins
    assert file_day("2026-11-01/late/2026/11/02/x.jsonl") == date(2026, 11, 2)


def test_files_grouped_by_day_and_undated_by_mtime(tmp_path):
    (tmp_path / "native").mkdir()
    (tmp_path / "native" / "2026-11-20.jsonl").write_text("{}\n")
    (tmp_path / "native" / "2026-11-20.jsonl.gz").write_bytes(b"")
    (tmp_path / "native" / ".hidden.jsonl").write_text("{}\n")
    (tmp_path / "native" / "notes.txt").write_text("not a log\n")
    undated = tmp_path / "undated.jsonl"
    undated.write_text("{}\n")
    stamp = 1_764_000_000  # 2025-11-24 UTC
    os.utime(undated, (stamp, stamp))
    assert [p.name for p in landing_files(tmp_path)] == ["2026-11-20.jsonl", "2026-11-20.jsonl.gz", "undated.jsonl"]
    groups = files_by_day(tmp_path)
    assert sorted(groups) == [date(2025, 11, 24), date(2026, 11, 20)]
    assert len(groups[date(2026, 11, 20)]) == 2
