"""The publish asset: the analyst snapshot notebooks read while the nightly run writes."""


import dagster as dg

from eval_platform.partitions import daily
from eval_platform.publish.snapshot import LATEST, publish_snapshot
from eval_platform.resources import Platform


@dg.asset(
    deps=["path_gaps", "model_matrix", "path_drift", "offline_online_gaps", "routing_policy_eval"],
    partitions_def=daily,
    group_name="publish",
    kinds={"duckdb"},
    owners=["team:evals"],
    pool="warehouse",
)
def analyst_snapshot(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """A fresh read-only copy of the warehouse, atomically published as snapshots/latest.duckdb; old
    snapshots beyond publish.keep_snapshots are pruned. Notebooks open this, never the working database."""
    path = publish_snapshot(platform.data.warehouse, platform.data.snapshots, keep=platform.config.publish.keep_snapshots)
    context.log.info(f"published {path.name} as {LATEST}")
    return dg.MaterializeResult(
        metadata={"snapshot": dg.MetadataValue.path(str(path)), "latest": dg.MetadataValue.path(str(platform.data.snapshots / LATEST)),
                  "size_mb": round(path.stat().st_size / 1e6, 2)}
    )
