"""The CLI's gap table: every note reaches the reader."""

import polars as pl

from eval_platform.gaps.tables import NO_SLICE
from eval_platform.summary import _render

COLUMNS = ["source", "routing_path", "scorer", "n", "pass_rate", "ci_low", "ci_high", "rest_pass_rate", "gap",
           "gap_ci_low", "gap_ci_high", "q_value", "flagged", "min_detectable_gap", "note"]


def _row(path, scorer, n=None, note=None):
    values = {c: None for c in COLUMNS} | {"source": "offline", "routing_path": path, "scorer": scorer, "n": n,
                                           "note": note, "flagged": False}
    if n is not None:
        values |= {"pass_rate": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    return values


def test_every_note_is_printed_with_the_scorers_it_concerns():
    gaps = pl.DataFrame([
        _row("primary", "tone_policy", n=30),
        _row("experimental", "tone_policy", note=NO_SLICE), _row("experimental", "valid_citation", note=NO_SLICE),
        _row("code", "valid_citation", note="no applicable scored items"),
    ], schema_overrides={"n": pl.Int64, "q_value": pl.Float64, "gap": pl.Float64, "rest_pass_rate": pl.Float64,
                         "gap_ci_low": pl.Float64, "gap_ci_high": pl.Float64, "min_detectable_gap": pl.Float64})
    text = _render(gaps)
    assert text.count(NO_SLICE) == 1  # once per path, not once per scorer
    assert "code           no applicable scored items (valid_citation)" in text
