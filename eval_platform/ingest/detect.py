"""Which log format a file is in, from its first parseable lines, and where each format's adapter lives."""

from __future__ import annotations

import json
from collections import Counter
from types import ModuleType

import polars as pl

from eval_platform.ingest.formats import litellm_proxy, native, otel

# format name (as in config `ingest.format`) -> adapter module; the order breaks ties
ADAPTERS: dict[str, ModuleType] = {"native": native, "litellm": litellm_proxy, "otel": otel}
SAMPLE_LINES = 20


def detect_format(lines: pl.DataFrame, sample: int = SAMPLE_LINES) -> str | None:
    """The format most of the first `sample` JSON-object lines look like, or None if none claims them."""
    votes: Counter[str] = Counter()
    adapters = ADAPTERS
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
