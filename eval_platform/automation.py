"""Jobs, the nightly schedule and the landing sensor."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg

from eval_platform.config import DataDir, load_config
from eval_platform.ingest.landing import landing_files, partition_day

INGEST_SELECTION = dg.AssetSelection.assets("ingest_files", "log_records", "log_quarantine")

ingest_job = dg.define_asset_job("ingest_job", selection=INGEST_SELECTION)
nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all(),
    tags={"dagster/max_retries": "1"},
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, minute_of_hour=30, name="nightly_schedule",
    description="Every night, the whole flow for the last complete UTC day.",
)


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, description="New or changed files in landing/ -> ingest their day.")
def landing_sensor(context: dg.SensorEvaluationContext):
    """Request an ingest run for every day whose landing files are new or changed since the last tick."""
    landing = DataDir.from_env().landing
    start = load_config().partition_start
    seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
    current = {p.relative_to(landing).as_posix(): p.stat().st_mtime for p in landing_files(landing)}
    changed = [name for name, mtime in current.items() if seen.get(name) != mtime]
    if not changed:
        return dg.SkipReason("no new or changed files in landing/")
    days: dict[date, list[str]] = {}
    for name in changed:
        days.setdefault(partition_day(landing, landing / name), []).append(name)
    early = sorted(name for d, names in days.items() if d < start for name in names)
    if early:
        context.log.warning(f"{len(early)} file(s) dated before partition_start {start} are not ingested: {early[:10]}")
    requests = [
        dg.RunRequest(run_key=f"{d}:{max(current[n] for n in names)}", partition_key=d.isoformat())
        for d, names in sorted(days.items())
        if d >= start
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current))


jobs = [ingest_job, nightly_job]
schedules = [nightly_schedule]
sensors = [landing_sensor]
