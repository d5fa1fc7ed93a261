"""The scaled code location: the same assets, an executor chosen by the environment, and routing paths
as partitions so each slice's eval fans out as its own run (DESIGN section 11; see deploy/__init__.py).

* Executor: EVAL_PLATFORM_EXECUTOR = `multiprocess` (default: steps in parallel subprocesses on this
  machine; the `warehouse` pool keeps DuckDB writes one at a time), `celery` (dagster-celery: steps as
  Celery tasks; broker from DAGSTER_CELERY_BROKER_URL) or `k8s` (dagster-k8s: every step its own
  Kubernetes Job, with the run launcher's image and volumes). `in_process` is accepted for debugging.
* Per-path evals: `eval_slice_responses` is partitioned by (day, routing_path), a MultiPartitionsDefinition
  of the daily partitions and the dynamic partitions "routing_path". `routing_path_sensor` adds a key for
  every meaningful path in `routing_traffic` and requests one run per (day, path) once that day's corpus
  exists. Each run replays one slice against its candidates (`run_slice_evals(..., paths=[path])`) and
  replaces only that path's rows of `eval_responses`, so a slow or failing provider delays one path, and
  a retry re-runs one slice. Responses land in the shared request-hash store: the nightly
  `eval_responses` step afterwards finds every call cached and only re-assembles the table.
* The nightly job is everything except the per-path asset (a job has one partitions definition).
"""

import os
import re
from datetime import date

import dagster as dg
import duckdb

from eval_platform.automation import ingest_job, landing_sensor
from eval_platform.config import DataDir
from eval_platform.definitions import ASSET_MODULES
from eval_platform.evals.assets import run_slice_evals
from eval_platform.partitions import daily
from eval_platform.resources import Platform
from eval_platform.warehouse import connect

EXECUTOR_ENV = "EVAL_PLATFORM_EXECUTOR"
# A routing path comes from the logs: only plain names become partition keys (Dagster reserves , | [ ] ...).
PARTITION_SAFE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")

routing_paths = dg.DynamicPartitionsDefinition(name="routing_path")
day_and_path = dg.MultiPartitionsDefinition({"day": daily, "routing_path": routing_paths})


def executor_from_env(name: str | None = None) -> dg.ExecutorDefinition:
    """The executor named by EVAL_PLATFORM_EXECUTOR; celery and k8s need their packages (the `deploy` extra)."""
    name = (name or os.environ.get(EXECUTOR_ENV) or "multiprocess").strip().lower()
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "in_process":
        return dg.in_process_executor
    try:
        if name == "celery":
            from dagster_celery import celery_executor

            return celery_executor
        if name == "k8s":
            from dagster_k8s import k8s_job_executor

            return k8s_job_executor
    except ImportError as exc:
        raise RuntimeError(f"{EXECUTOR_ENV}={name} needs the dagster-{name} package: pip install 'eval-platform[deploy]'") from exc
    raise ValueError(f"{EXECUTOR_ENV}={name!r}: expected multiprocess, celery, k8s or in_process")


@dg.asset(
    deps=["eval_candidates", "corpus_items"],
    partitions_def=day_and_path,
    group_name="evals",
    kinds={"litellm", "duckdb"},
    owners=["team:evals"],
    pool="model_calls",
    op_tags={"eval_platform/stage": "evals"},
)
def eval_slice_responses(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """One routing path's slice of the day's corpus run against that path's candidate models, as its own
    run; replaces only that path's rows of eval_responses (responses are cached by request hash)."""
    key = context.partition_key.keys_by_dimension
    day, path = date.fromisoformat(key["day"]), key["routing_path"]
    version, responses = run_slice_evals(platform, day, context.run_id, context.log, paths=[path])
    errors = int((responses["status"] == "error").sum()) if responses.height else 0
    return dg.MaterializeResult(
        metadata={"corpus_version": version, "routing_path": path, "calls": responses.height, "errors": errors,
                  "cached": int(responses["cached"].sum()) if responses.height else 0}
    )


eval_slice_job = dg.define_asset_job(
    "eval_slice_job", selection=[eval_slice_responses], partitions_def=day_and_path, tags={"eval_platform/stage": "evals"},
)
scaled_nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(eval_slice_responses),
    tags={"dagster/max_retries": "1"},
)
scaled_nightly_schedule = dg.build_schedule_from_partitioned_job(
    scaled_nightly_job, hour_of_day=2, minute_of_hour=30, name="nightly_schedule",
    description="Every night, the whole flow for the last complete UTC day.",
)

_SLICES_SQL = """
SELECT t.window_end, t.routing_path FROM routing_traffic t
WHERE t.meaningful AND t.window_end = (SELECT max(window_end) FROM corpus_versions)
ORDER BY t.routing_path
"""


def slice_partitions(conn: duckdb.DuckDBPyConnection) -> tuple[list[tuple[date, str]], list[str]]:
    """(day, path) for every meaningful path of the newest window with a corpus, and the paths whose
    names cannot be partition keys (reported, not run)."""
    rows = conn.execute(_SLICES_SQL).fetchall()
    good = [(day, path) for day, path in rows if PARTITION_SAFE.match(path)]
    return good, sorted({path for _, path in rows if not PARTITION_SAFE.match(path)})


@dg.sensor(job=eval_slice_job, minimum_interval_seconds=300,
           description="New corpus version -> register its routing paths and run each slice's eval as its own run.")
def routing_path_sensor(context: dg.SensorEvaluationContext):
    """Read the warehouse briefly, read-only; while a run holds the writer lock, try again next tick."""
    try:
        with connect(DataDir.from_env().warehouse, read_only=True, retries=3) as conn:
            slices, unsafe = slice_partitions(conn)
    except duckdb.Error as exc:  # locked by a writing run, or not created yet
        return dg.SkipReason(f"warehouse not readable now ({type(exc).__name__}); next tick")
    if unsafe:
        context.log.warning(f"routing paths not usable as partition keys, not fanned out: {unsafe[:10]}")
    if not slices:
        return dg.SkipReason("no corpus version with meaningful paths yet")
    known = set(context.instance.get_dynamic_partitions(routing_paths.name))
    new_paths = sorted({path for _, path in slices} - known)
    requests = [
        dg.RunRequest(run_key=f"{day}|{path}",  # once per (day, path): the daemon drops a repeated run key
                      partition_key=dg.MultiPartitionKey({"day": day.isoformat(), "routing_path": path}))
        for day, path in slices
    ]
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=[routing_paths.build_add_request(new_paths)] if new_paths else [])


def build_defs(executor_name: str | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[*dg.load_assets_from_modules(ASSET_MODULES), eval_slice_responses],
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[ingest_job, scaled_nightly_job, eval_slice_job],
        schedules=[scaled_nightly_schedule],
        sensors=[landing_sensor, routing_path_sensor],
        resources={"platform": Platform()},
        executor=executor_from_env(executor_name),
    )


defs = build_defs()
