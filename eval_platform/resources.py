"""The platform resource: config, data directory and warehouse connections for every asset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

import dagster as dg
import duckdb

from eval_platform.config import DataDir, PlatformConfig, load_config
from eval_platform.warehouse import connect


class Platform(dg.ConfigurableResource):
    """Where the data lives and how the platform is configured (EVAL_PLATFORM_DATA_DIR / EVAL_PLATFORM_CONFIG)."""

    data_dir: str | None = None
    config_path: str | None = None

    @cached_property
    def config(self) -> PlatformConfig:
        return load_config(self.config_path)

    @cached_property
    def data(self) -> DataDir:
        return DataDir(root=self.data_dir) if self.data_dir else DataDir.from_env()

    @contextmanager
    def warehouse(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.data.warehouse, read_only=read_only, memory_limit=self.config.warehouse.memory_limit) as conn:
            yield conn
