"""Unattended operation: the landing sensor and the nightly schedule, evaluated as the daemon would."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import dagster as dg
import pytest

from eval_platform.automation import landing_sensor
from eval_platform.definitions import defs


@pytest.fixture
def landing(tmp_path, monkeypatch):
    monkeypatch.setenv("EVAL_PLATFORM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("EVAL_PLATFORM_CONFIG", raising=False)  # the bundled config: partition_start 2026-11-01
    path = tmp_path / "landing"
    (path / "native").mkdir(parents=True)
    return path


def _write(path, text="{}\n", mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _tick(cursor=None):
    context = dg.build_sensor_context(cursor=cursor)
    return landing_sensor(context)


def test_new_files_give_one_request_per_day_with_its_partition(landing):
    _write(landing / "native" / "2026-11-16.jsonl")
    _write(landing / "native" / "2026-11-17.jsonl")
    _write(landing / "litellm" / "2026-11-17" / "proxy.jsonl.gz", "x")
    _write(landing / "native" / ".2026-11-18.jsonl")  # hidden upload in progress: not a log file yet
    result = _tick()
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-16", "2026-11-17"]
    assert len({r.run_key for r in result.run_requests}) == 2
    assert set(json.loads(result.cursor)) == {"native/2026-11-16.jsonl", "native/2026-11-17.jsonl", "litellm/2026-11-17/proxy.jsonl.gz"}


def test_same_cursor_skips_and_a_changed_file_requests_its_day_again(landing):
    day_file = _write(landing / "native" / "2026-11-16.jsonl", mtime=1_700_000_000)
    _write(landing / "native" / "2026-11-17.jsonl", mtime=1_700_000_000)
    first = _tick()
    again = _tick(first.cursor)
    assert isinstance(again, dg.SkipReason)

    _write(day_file, '{"changed": true}\n', mtime=1_700_000_500)
    changed = _tick(first.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2026-11-16"]
    # A new run key: the daemon would drop a request whose run key it has already launched.
    assert changed.run_requests[0].run_key not in {r.run_key for r in first.run_requests}
    assert isinstance(_tick(changed.cursor), dg.SkipReason)


def test_a_file_dated_before_partition_start_is_not_requested_and_is_reported(landing, capfd):
    _write(landing / "native" / "2026-10-30.jsonl")
    _write(landing / "native" / "2026-11-02.jsonl")
    result = _tick()
    assert [r.partition_key for r in result.run_requests] == ["2026-11-02"]
    # Dagster's console logger writes the sensor's warning to stderr (its logger does not propagate).
    warnings = [line for line in capfd.readouterr().err.splitlines() if " WARNING " in line]
    assert any("2026-10-30.jsonl" in w and "partition_start 2026-11-01" in w for w in warnings), warnings
    # Remembered in the cursor, so the warning is not repeated every minute.
    assert isinstance(_tick(result.cursor), dg.SkipReason)


def test_nightly_schedule_requests_the_last_complete_utc_day():
    nightly_schedule = defs.resolve_schedule_def("nightly_schedule")  # resolved against the daily job
    for tick, expected in [
        (datetime(2026, 11, 30, 2, 30, tzinfo=UTC), "2026-11-29"),
        (datetime(2026, 12, 1, 2, 30, tzinfo=UTC), "2026-11-30"),  # across a month boundary
        (datetime(2027, 1, 1, 2, 30, tzinfo=UTC), "2026-12-31"),
    ]:
        context = dg.build_schedule_context(scheduled_execution_time=tick)
        (request,) = nightly_schedule.evaluate_tick(context).run_requests
        assert request.partition_key == expected, tick
    assert nightly_schedule.cron_schedule == "30 2 * * *"
    assert nightly_schedule.execution_timezone in (None, "UTC")
    assert nightly_schedule.job_name == "nightly_job"
