"""The analyst snapshot (DESIGN section 10): a notebook holding a read-only connection never blocks the
nightly run and keeps reading one consistent state; new readers see the new data; old files are pruned."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import duckdb
import pytest

from eval_platform import cli
from eval_platform.config import DataDir, load_config
from eval_platform.publish.snapshot import LATEST, open_latest, publish_snapshot
from eval_platform.sample.generator import write_sample

STATE_SQL = """SELECT (SELECT max(day) FROM log_records)::VARCHAR, (SELECT max(window_end) FROM routing_traffic)::VARCHAR,
                      (SELECT count(*) FROM log_records), (SELECT count(*) FROM ingest_files)"""


def _state(conn: duckdb.DuckDBPyConnection) -> tuple:
    return conn.execute(STATE_SQL).fetchall()[0]  # fetchall: fetchone leaves the result open under DuckDB 2.0


def _state_in_a_new_process(path) -> tuple:
    """What an analyst who opens the snapshot now sees: a fresh process, so no cached database instance."""
    code = f"import duckdb, json, sys; print(json.dumps(duckdb.connect(sys.argv[1], read_only=True).execute({STATE_SQL!r}).fetchall()[0]))"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=30, check=True)
    return tuple(json.loads(out.stdout))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    data = tmp_path_factory.mktemp("snap")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVAL_PLATFORM_DATA_DIR", str(data))
        mp.delenv("EVAL_PLATFORM_CONFIG", raising=False)
        mp.delenv("DAGSTER_HOME", raising=False)
        write_sample(data, days=3, sessions_per_day=40)
        assert cli.main(["run"]) == 0
        yield DataDir(root=data), mp


def test_a_reader_holding_the_snapshot_keeps_its_state_while_the_next_run_publishes(published):
    data, _ = published
    latest = data.snapshots / LATEST
    reader = duckdb.connect(str(latest), read_only=True)  # the analyst's notebook, left open
    try:
        before = _state(reader)
        assert before[0] == before[1] == "2026-11-18"  # records and the traffic window end on the same day

        write_sample(data.root, days=4, sessions_per_day=40)  # a new day of logs lands
        assert cli.main(["run", "--days", "2026-11-19.."]) == 0  # the nightly run succeeds, reader still open

        assert _state(reader) == before  # same consistent old state, not a mix of old and new
        after = _state_in_a_new_process(latest)
        assert after[0] == after[1] == "2026-11-19"
        assert after[2] > before[2] and after[3] == before[3] + 1
    finally:
        reader.close()


def test_open_latest_in_the_same_process_sees_the_new_snapshot(published):
    data, _ = published
    old = open_latest(data.snapshots)
    try:
        before = _state(old)
        with duckdb.connect(str(data.warehouse)) as conn:
            conn.execute("DELETE FROM ingest_files WHERE day = (SELECT max(day) FROM ingest_files)")
        publish_snapshot(data.warehouse, data.snapshots, keep=load_config().publish.keep_snapshots)
        new = open_latest(data.snapshots)
        assert _state(new)[3] == before[3] - 1
        new.close()
    finally:
        old.close()


def test_pruning_keeps_the_configured_number_and_files_are_owner_only(published):
    data, _ = published
    keep = load_config().publish.keep_snapshots
    made = [publish_snapshot(data.warehouse, data.snapshots, keep=keep) for _ in range(keep + 2)]

    snapshots = sorted(data.snapshots.glob("eval-*.duckdb"))
    assert snapshots == sorted(made[-keep:])  # exactly the newest `keep`
    assert sorted(p.name for p in data.snapshots.iterdir()) == sorted([LATEST] + [p.name for p in snapshots])  # no temp files left
    assert (data.snapshots / LATEST).stat().st_ino == made[-1].stat().st_ino  # latest is the newest one
    for path in [*snapshots, data.snapshots / LATEST, data.warehouse]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(data.snapshots.stat().st_mode) == 0o700


def test_a_failed_copy_leaves_no_partial_file(published, monkeypatch):
    import eval_platform.publish.snapshot as snapshot_module

    data, _ = published
    before = sorted(p.name for p in data.snapshots.iterdir())

    def fail(name):
        raise RuntimeError("copy failed midway")

    monkeypatch.setattr(snapshot_module, "checked_identifier", fail)
    with pytest.raises(RuntimeError, match="copy failed midway"):
        publish_snapshot(data.warehouse, data.snapshots)
    assert sorted(p.name for p in data.snapshots.iterdir()) == before
