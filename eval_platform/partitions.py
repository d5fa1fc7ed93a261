"""The one daily partitions definition every asset uses (its start date comes from the config)."""

from __future__ import annotations

import dagster as dg

from eval_platform.config import load_config


def daily_partitions(start: str | None = None) -> dg.DailyPartitionsDefinition:
    """Daily UTC partitions from `partition_start`; a window asset's partition D is the window ending on D."""
    return dg.DailyPartitionsDefinition(start_date=start or load_config().partition_start.isoformat())


daily = daily_partitions()
