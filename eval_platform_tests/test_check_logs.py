"""`eval-platform check-logs`: a dry run of ingestion on files, for people trying their own logs."""

import json
from pathlib import Path

from eval_platform.cli import main
from eval_platform.config import load_config
from eval_platform.ingest.check import check_file
from eval_platform_tests.test_file_ingest import native, write_jsonl

FIXTURES = Path(__file__).parent / "fixtures"


def test_report_names_format_accounting_reasons_and_paths(tmp_path):
    lines = [json.dumps(native(i)) for i in range(30)]
    lines[4], lines[9] = "not json", json.dumps(native(9, turn="two"))
    check = check_file(write_jsonl(tmp_path / "gw.jsonl", lines), load_config())
    assert "gw.jsonl: native, 30 lines -> 28 with records, 2 quarantined, 0 skipped" in check.report
    assert "1 x not valid JSON  (lines 5)" in check.report
    assert "1 x field 'turn': expected integer >= 1, got string \"two\"  (lines 10)" in check.report
    assert "primary: 28 record(s), served by demo/primary-large" in check.report
    assert not check.ok  # 2 of 30 quarantined is over the default 5% warn rate


def test_several_records_per_line_are_counted_both_ways():
    check = check_file(FIXTURES / "otel_otlp_export.jsonl", load_config())
    assert "otel, 3 lines -> 2 with records (3 records), 0 quarantined, 1 skipped" in check.report and check.ok


def test_cli_exit_code_and_format_override(tmp_path, capsys):
    good = write_jsonl(tmp_path / "a.jsonl", [json.dumps(native(i)) for i in range(5)])
    assert main(["check-logs", str(good)]) == 0
    assert main(["check-logs", str(good), "--format", "otel"]) == 1  # read as the wrong format: all quarantined
    assert main(["check-logs", str(tmp_path / "missing.jsonl")]) == 1
    out, err = capsys.readouterr()
    assert "a.jsonl: native, 5 lines -> 5 with records" in out and "a.jsonl: otel, 5 lines -> 0 with records" in out
    assert "missing.jsonl: no such file" in err


def test_format_rules_match_the_path_under_landing(tmp_path):
    from datetime import date

    from eval_platform.config import PlatformConfig

    config = PlatformConfig(partition_start=date(2026, 11, 1), ingest={"format_by_glob": {"proxy/*": "otel"}})
    path = write_jsonl(tmp_path / "landing" / "proxy" / "a.jsonl", [json.dumps(native(i)) for i in range(3)])
    assert "a.jsonl: otel, 3 lines -> 0 with records" in check_file(path, config, tmp_path / "landing").report
    assert "a.jsonl: native, 3 lines -> 3 with records" in check_file(path, config).report  # outside landing: auto
