"""Beyond one machine: the instance variants validate, the scaled location loads and fans out per path,
and the warehouse exports as day-partitioned Parquet.

Validated here without a live service: each dagster.*.yaml against Dagster's instance schema
(`dagster_instance_config`, the same function the instance loader calls) and the run launcher /
coordinator classes' own config schemas; the Postgres URL it would connect to. Not tested: connecting to
Postgres, creating Kubernetes Jobs, a Celery broker and workers (they need the live services).
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from datetime import date

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster._config import process_config, validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import class_from_code_pointer

from eval_platform import cli
from eval_platform.config import DataDir
from eval_platform.deploy import DEPLOY_DIR, INSTANCE_VARIANTS
from eval_platform.deploy import definitions_scaled as scaled
from eval_platform.deploy.parquet import export_parquet
from eval_platform.sample.generator import write_sample
from eval_platform.warehouse import connect

ENV = {
    "DAGSTER_PG_HOST": "pg.internal", "DAGSTER_PG_USER": "dagster", "DAGSTER_PG_PASSWORD": "s3cret",
    "DAGSTER_PG_DB": "dagster", "DAGSTER_K8S_NAMESPACE": "evals", "DAGSTER_K8S_JOB_IMAGE": "registry/eval-platform:1",
    "DAGSTER_CELERY_BROKER_URL": "pyamqp://guest@rabbitmq//", "DAGSTER_CELERY_BACKEND_URL": "rpc://",
}


@pytest.mark.parametrize("variant", INSTANCE_VARIANTS)
def test_instance_variant_validates_against_dagsters_schemas(variant, tmp_path, monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    config, custom_class = dagster_instance_config(str(DEPLOY_DIR), variant)
    assert custom_class is None
    assert "postgres" in config["storage"]  # every multi-machine variant shares one Postgres instance
    for section in ("run_launcher", "run_coordinator"):
        if section in config:
            klass = class_from_code_pointer(config[section]["module"], config[section]["class"])
            result = process_config(klass.config_type(), config[section].get("config") or {})  # env resolved too
            assert result.success, (variant, section, result.errors)

    from dagster_postgres import DagsterPostgresStorage
    from dagster_postgres.utils import pg_url_from_config

    storage = process_config(DagsterPostgresStorage.config_type(), config["storage"]["postgres"])
    assert storage.success, storage.errors
    url = pg_url_from_config(storage.value)  # what the instance would connect to, env resolved
    assert url.startswith("postgresql://dagster:s3cret@pg.internal:5432/dagster")


def test_a_missing_secret_is_an_error_not_a_default(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAGSTER_PG_PASSWORD")
    config, _ = dagster_instance_config(str(DEPLOY_DIR), "dagster.postgres.yaml")
    from dagster_postgres import DagsterPostgresStorage

    # resolved when the storage is built, as the instance does: the error names the variable
    storage = process_config(DagsterPostgresStorage.config_type(), config["storage"]["postgres"])
    assert not storage.success and "DAGSTER_PG_PASSWORD" in str(storage.errors)


def test_k8s_variant_sets_the_launcher_fields_dagster_k8s_requires(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    config, _ = dagster_instance_config(str(DEPLOY_DIR), "dagster.k8s.yaml")
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    from dagster_k8s import K8sRunLauncher

    bare = validate_config(K8sRunLauncher.config_type(), {})
    assert not bare.success and "instance_config_map" in str(bare.errors)  # the field our file must set
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"]["default_limit"] == 1


def test_scaled_definitions_load_with_each_executor():
    dg.Definitions.validate_loadable(scaled.defs)
    assert scaled.executor_from_env().name == "multiprocess"
    assert scaled.executor_from_env("celery").name == "celery"
    assert scaled.executor_from_env("k8s").name == "k8s"
    with pytest.raises(ValueError, match="EVAL_PLATFORM_EXECUTOR"):
        scaled.executor_from_env("threads")
    for name in ("celery", "k8s"):
        dg.Definitions.validate_loadable(scaled.build_defs(name))

    defs = scaled.defs
    slice_job = defs.resolve_job_def("eval_slice_job")
    assert isinstance(slice_job.partitions_def, dg.MultiPartitionsDefinition)
    assert {d.name for d in slice_job.partitions_def.partitions_defs} == {"day", "routing_path"}
    nightly = defs.resolve_job_def("nightly_job")
    assert isinstance(nightly.partitions_def, dg.DailyPartitionsDefinition)
    assert dg.AssetKey("eval_slice_responses") not in nightly.asset_layer.executable_asset_keys
    assert dg.AssetKey("eval_responses") in nightly.asset_layer.executable_asset_keys
    assert {s.name for s in defs.sensors} == {"landing_sensor", "routing_path_sensor"}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("scaled")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVAL_PLATFORM_DATA_DIR", str(data))
        mp.delenv("EVAL_PLATFORM_CONFIG", raising=False)
        mp.delenv("DAGSTER_HOME", raising=False)
        write_sample(data, days=2, sessions_per_day=40)
        assert cli.main(["run"]) == 0
        yield DataDir(root=data), mp


def _rows(data: DataDir, sql: str, params=()) -> list[tuple]:
    with connect(data.warehouse, read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def test_sensor_registers_paths_and_each_slice_runs_as_its_own_partition(small_run):
    data, mp = small_run
    day = date(2026, 11, 17)
    with connect(data.warehouse) as conn:  # a hostile path name from the logs, meaningful by share
        conn.execute("INSERT INTO routing_traffic BY NAME SELECT ? AS window_end, 'evil|path,[x]' AS routing_path, true AS meaningful", [day])
    meaningful = {p for (p,) in _rows(data, "SELECT routing_path FROM routing_traffic WHERE meaningful AND window_end = ?", [day])}

    with dg.instance_for_test() as instance:
        result = scaled.routing_path_sensor(dg.build_sensor_context(instance=instance))
        (add,) = result.dynamic_partitions_requests
        assert set(add.partition_keys) == meaningful - {"evil|path,[x]"} and "fallback" in add.partition_keys
        keys = {(r.partition_key.keys_by_dimension["day"], r.partition_key.keys_by_dimension["routing_path"]) for r in result.run_requests}
        assert keys == {(day.isoformat(), p) for p in add.partition_keys}

        instance.add_dynamic_partitions(scaled.routing_paths.name, list(add.partition_keys))
        before = dict(_rows(data, "SELECT routing_path, max(eval_run_id) FROM eval_responses GROUP BY ALL"))
        key = dg.MultiPartitionKey({"day": day.isoformat(), "routing_path": "fallback"})
        outcome = dg.materialize([scaled.eval_slice_responses], partition_key=key, instance=instance,
                                 resources={"platform": scaled.Platform()})
        assert outcome.success
    after = dict(_rows(data, "SELECT routing_path, max(eval_run_id) FROM eval_responses GROUP BY ALL"))
    assert after["fallback"] == outcome.run_id != before["fallback"]  # that slice was replaced by its own run
    assert {p: r for p, r in after.items() if p != "fallback"} == {p: r for p, r in before.items() if p != "fallback"}
    cached = _rows(data, "SELECT bool_and(cached), count(*) FROM eval_responses WHERE routing_path = 'fallback'")[0]
    assert cached[0] and cached[1] > 0  # same requests as the nightly run: paid for once


def test_sensor_skips_while_the_warehouse_is_being_written(small_run):
    """A run in another process holds the writer lock: the sensor skips this tick and says why."""
    data, _ = small_run
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); sys.stdin.read()"
    ), str(data.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with dg.instance_for_test() as instance:
            result = scaled.routing_path_sensor(dg.build_sensor_context(instance=instance))
    finally:
        holder.communicate("", timeout=30)  # closing its stdin ends it, releasing the lock
    assert isinstance(result, dg.SkipReason) and "warehouse not readable now (IOException)" in result.skip_message


def test_export_parquet_partitions_by_day_and_reads_back_with_hive_partitioning(small_run, tmp_path):
    data, _ = small_run
    out = tmp_path / "warehouse_parquet"
    rows = export_parquet(data.warehouse, out)
    assert rows["log_records"] == _rows(data, "SELECT count(*) FROM log_records")[0][0] > 0
    assert sorted(p.name for p in (out / "log_records").iterdir()) == ["day=2026-11-16", "day=2026-11-17"]

    per_day = duckdb.sql(f"SELECT day, count(*) FROM read_parquet('{out}/log_records/*/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY 1").fetchall()
    assert per_day == _rows(data, "SELECT day, count(*) FROM log_records GROUP BY ALL ORDER BY 1")
    gaps = pl.read_parquet(out / "path_gaps" / "data_0.parquet")
    assert gaps.height == rows["path_gaps"] and "flagged" in gaps.columns
    assert stat.S_IMODE(out.stat().st_mode) == 0o700

    with connect(data.warehouse) as conn:
        conn.execute("DELETE FROM log_records WHERE day = DATE '2026-11-17'")
    rows_again = export_parquet(data.warehouse, out)  # replaces the previous export, no leftovers
    assert sorted(p.name for p in (out / "log_records").iterdir()) == ["day=2026-11-16"]
    assert rows_again["log_records"] < rows["log_records"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse_parquet"]
    shutil.rmtree(out)
