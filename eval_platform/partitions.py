"""The partitions every asset uses, and the mappings from a window asset to the days it reads.

Both come from the config, so lineage in the UI matches what the SQL reads: partition D of a window
asset reads days D - (window_days - 1) .. D, and path_drift also reads its lagged baseline.
"""

from __future__ import annotations

import dagster as dg

from eval_platform.config import PlatformConfig, load_config


def daily_partitions(config: PlatformConfig) -> dg.DailyPartitionsDefinition:
    """Daily UTC partitions from `partition_start`; a window asset's partition D is the window ending on D."""
    return dg.DailyPartitionsDefinition(start_date=config.partition_start.isoformat())


def window_mapping(config: PlatformConfig) -> dg.TimeWindowPartitionMapping:
    """Day D of a window asset depends on the `traffic.window_days` days ending on D."""
    return dg.TimeWindowPartitionMapping(start_offset=-(config.traffic.window_days - 1))


def drift_mapping(config: PlatformConfig) -> dg.TimeWindowPartitionMapping:
    """Day D of path_drift depends on D and its baseline window (lagged, `drift.baseline_*`)."""
    return dg.TimeWindowPartitionMapping(start_offset=-(config.drift.baseline_lag_days + config.drift.baseline_days - 1))


_CONFIG = load_config()  # read once, when definitions load
daily = daily_partitions(_CONFIG)
WINDOW = window_mapping(_CONFIG)
DRIFT_WINDOW = drift_mapping(_CONFIG)
