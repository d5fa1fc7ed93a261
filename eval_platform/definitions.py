"""The code location: every asset, check, job, schedule and sensor of eval_platform."""

from __future__ import annotations

import dagster as dg

from eval_platform.automation import jobs, schedules, sensors
from eval_platform.corpus import assets as corpus_assets
from eval_platform.drift import assets as drift_assets
from eval_platform.evals import assets as eval_assets
from eval_platform.gaps import assets as gap_assets
from eval_platform.ingest import assets as ingest_assets
from eval_platform.publish import assets as publish_assets
from eval_platform.resources import Platform
from eval_platform.scores import assets as score_assets
from eval_platform.sessions import assets as session_assets

# In pipeline order: ingest -> sessions and traffic -> corpus -> evals -> scores -> gaps (and drift) -> publish.
ASSET_MODULES = [ingest_assets, session_assets, corpus_assets, eval_assets, score_assets, gap_assets, drift_assets, publish_assets]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
    resources={"platform": Platform()},
    executor=dg.in_process_executor,
)
