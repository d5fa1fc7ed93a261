"""Vega-Lite specs shown in the Dagster UI (as JSON metadata) and in notebooks."""

from __future__ import annotations

import polars as pl


def gap_chart_spec(gaps: pl.DataFrame) -> dict:
    """Each path's gap to the rest per scorer, with its interval; flagged gaps in red."""
    rows = gaps.filter(pl.col("gap").is_not_null()).select(
        "source", "routing_path", "scorer", "gap", "gap_ci_low", "gap_ci_high", "flagged"
    ).to_dicts()
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": "Gap = path pass rate - rest of paths, with 95% interval",
        "data": {"values": rows},
        "facet": {"row": {"field": "source"}, "column": {"field": "scorer"}},
        "spec": {
            "layer": [
                {"mark": "rule", "encoding": {"y": {"field": "routing_path", "type": "nominal"},
                                              "x": {"field": "gap_ci_low", "type": "quantitative", "title": "gap"},
                                              "x2": {"field": "gap_ci_high"}}},
                {"mark": "point", "encoding": {"y": {"field": "routing_path", "type": "nominal"},
                                               "x": {"field": "gap", "type": "quantitative"},
                                               "color": {"field": "flagged", "type": "nominal",
                                                         "scale": {"domain": [False, True], "range": ["#4c78a8", "#e45756"]}}}},
            ]
        },
    }


def drift_chart_spec(history: pl.DataFrame) -> dict:
    """Per path: online pass rate per scorer over time, with the mix divergence beside it."""
    rows = history.with_columns(pl.col("day").cast(pl.String)).to_dicts()
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": "Online pass rate per scorer (left) and query-mix divergence from baseline (right), per path",
        "data": {"values": rows},
        "facet": {"row": {"field": "routing_path"}},
        "spec": {
            "hconcat": [
                {"mark": "line", "encoding": {"x": {"field": "day", "type": "temporal"},
                                              "y": {"field": "pass_rate", "type": "quantitative", "scale": {"domain": [0, 1]}},
                                              "color": {"field": "scorer", "type": "nominal"}}},
                {"mark": "bar", "encoding": {"x": {"field": "day", "type": "temporal"},
                                             "y": {"field": "mix_divergence", "type": "quantitative", "aggregate": "max"}}},
            ]
        },
    }
