"""Which log format a file is in, from its first parseable lines, and where each format's adapter lives."""

from __future__ import annotations

import importlib
import json
from collections import Counter
from types import ModuleType

import polars as pl

# format name (as in config `ingest.format`) -> adapter module; the order breaks ties
ADAPTER_MODULES: dict[str, str] = {
    "native": "eval_platform.ingest.formats.native",
    "litellm": "eval_platform.ingest.formats.litellm_proxy",
    "otel": "eval_platform.ingest.formats.otel",
}
SAMPLE_LINES = 20


def adapter_for(name: str) -> ModuleType | None:
    """The adapter module of a format, or None if the format is unknown or its module is unavailable."""
    module = ADAPTER_MODULES.get(name)
    if module is None:
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def detect_format(lines: pl.DataFrame, sample: int = SAMPLE_LINES) -> str | None:
    """The format most of the first `sample` JSON-object lines look like, or None if none claims them."""
    votes: Counter[str] = Counter()
    adapters = {name: module for name in ADAPTER_MODULES if (module := adapter_for(name)) is not None}
    seen = 0
    for raw in lines.get_column("raw").head(sample * 5).drop_nulls():
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        seen += 1
        for name, module in adapters.items():
            try:
                if module.looks_like(obj):
                    votes[name] += 1
                    break
            except Exception:  # a sniffing bug in one adapter must not stop ingestion
                continue
        if seen >= sample:
            break
    if not votes:
        return None
    best = max(votes.values())
    return next(name for name in adapters if votes[name] == best)
