"""Assets materialized in-process against a temporary warehouse (no CLI), with a custom config."""

from datetime import date

import dagster as dg
import duckdb
import pytest
import yaml

from eval_platform.config import DEMO_CONFIG
from eval_platform.ingest.assets import ingest_logs
from eval_platform.resources import Platform
from eval_platform.sample.generator import write_sample
from eval_platform.scores.assets import online_scores

DAY = date(2026, 11, 16)


@pytest.fixture
def platform(tmp_path):
    write_sample(tmp_path / "data", days=2, sessions_per_day=60)
    cfg = yaml.safe_load(DEMO_CONFIG.read_text())
    cfg["online"]["sample_rate"] = 0.3
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return Platform(data_dir=str(tmp_path / "data"), config_path=str(path))


def _materialize(platform, *assets):
    result = dg.materialize(list(assets), partition_key=DAY.isoformat(), resources={"platform": platform},
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    return result


def _count(platform, sql):
    with duckdb.connect(str(platform.data.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_online_sampling_is_deterministic_at_the_configured_rate(platform):
    _materialize(platform, ingest_logs, online_scores)
    (records,), = _count(platform, f"SELECT count(*) FROM log_records WHERE day = '{DAY}'")
    first = _count(platform, "SELECT record_id, scorer FROM online_scores ORDER BY ALL")
    sampled = len({r for r, _ in first})
    assert 0.2 < sampled / records < 0.4
    _materialize(platform, online_scores)
    assert _count(platform, "SELECT record_id, scorer FROM online_scores ORDER BY ALL") == first


def test_reingesting_an_unchanged_partition_changes_nothing_and_checks_pass(platform):
    result = _materialize(platform, ingest_logs)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    (rate,), = _count(platform, "SELECT max(quarantined / lines) FROM ingest_files")
    # the small sample concentrates the 21 malformed lines: the WARN check must say so
    assert checks == {"every_line_accounted_for": True, "log_records_schema": True,
                      "quarantine_rate_below_threshold": rate <= platform.config.ingest.quarantine_warn_rate}
    before = _count(platform, "SELECT ingest_run_id, count(*) FROM log_records GROUP BY 1")
    _materialize(platform, ingest_logs)
    assert _count(platform, "SELECT ingest_run_id, count(*) FROM log_records GROUP BY 1") == before


def test_a_changed_file_replaces_its_rows(platform):
    _materialize(platform, ingest_logs)
    path = platform.data.landing / "native" / f"{DAY}.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:10]))
    _materialize(platform, ingest_logs)
    (total,), = _count(platform, f"SELECT lines FROM ingest_files WHERE source_file = 'native/{DAY}.jsonl'")
    assert total == 10
    (rows,), = _count(platform, f"SELECT count(*) FROM log_records WHERE source_file = 'native/{DAY}.jsonl'")
    (quarantined,), = _count(platform, f"SELECT count(*) FROM log_quarantine WHERE source_file = 'native/{DAY}.jsonl'")
    assert rows + quarantined == 10
    assert len(_count(platform, f"SELECT * FROM ingest_files WHERE source_file = 'native/{DAY}.jsonl'")) == 1


def test_a_renamed_or_deleted_landing_file_leaves_no_rows_behind(platform):
    _materialize(platform, ingest_logs)
    before = _count(platform, "SELECT count(*), count(DISTINCT record_id) FROM log_records")
    native = platform.data.landing / "native"
    (native / f"{DAY}.jsonl").rename(native / f"{DAY}-moved.jsonl")
    _materialize(platform, ingest_logs)
    assert _count(platform, "SELECT count(*), count(DISTINCT record_id) FROM log_records") == before  # not doubled
    assert _count(platform, f"SELECT count(*) FROM log_records WHERE source_file = 'native/{DAY}.jsonl'") == [(0,)]
    assert _count(platform, f"SELECT count(*) FROM ingest_files WHERE source_file = 'native/{DAY}.jsonl'") == [(0,)]
    (native / f"{DAY}-moved.jsonl").unlink()
    _materialize(platform, ingest_logs)
    assert _count(platform, f"SELECT count(*) FROM ingest_files WHERE day = '{DAY}' AND source_file LIKE 'native/%'") == [(0,)]


def test_the_accounting_check_reads_the_tables(platform):
    """Rows lost from the warehouse after ingestion (here: deleted by hand) fail the blocking check on the next run."""
    _materialize(platform, ingest_logs)
    with duckdb.connect(str(platform.data.warehouse)) as conn:
        conn.execute(f"DELETE FROM log_records WHERE source_file = 'native/{DAY}.jsonl' AND source_line <= 3")
    result = dg.materialize([ingest_logs], partition_key=DAY.isoformat(), resources={"platform": platform},
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["every_line_accounted_for"] is False


def test_a_changed_format_setting_reingests_the_file(platform, tmp_path):
    """A file quarantined whole under the wrong format is read again once the config names the right one."""
    cfg = yaml.safe_load(open(platform.config_path))
    cfg.setdefault("ingest", {})["format_by_glob"] = {"native/*": "otel"}  # wrong on purpose
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(cfg))
    _materialize(Platform(data_dir=platform.data_dir, config_path=str(wrong)), ingest_logs)
    name = f"native/{DAY}.jsonl"
    assert _count(platform, f"SELECT format, records FROM ingest_files WHERE source_file = '{name}'") == [("otel", 0)]
    _materialize(platform, ingest_logs)  # the right config; the file's bytes did not change
    (fmt, records), = _count(platform, f"SELECT format, records FROM ingest_files WHERE source_file = '{name}'")
    assert fmt == "native" and records > 0


def test_a_new_adapter_version_reingests_files_read_by_the_old_one(platform, monkeypatch):
    """Rows mapped by two versions of an adapter never mix: a bumped ADAPTERS_VERSION reads every file again."""
    import eval_platform.ingest.assets as ingest_assets

    _materialize(platform, ingest_logs)
    first = _count(platform, "SELECT DISTINCT ingest_run_id FROM log_records")
    _materialize(platform, ingest_logs)  # same version: nothing is read again
    assert _count(platform, "SELECT DISTINCT ingest_run_id FROM log_records") == first
    monkeypatch.setattr(ingest_assets, "ADAPTERS_VERSION", ingest_assets.ADAPTERS_VERSION + 1)
    _materialize(platform, ingest_logs)
    assert _count(platform, "SELECT DISTINCT ingest_run_id FROM log_records") != first
