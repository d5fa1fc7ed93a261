import math

import polars as pl
import pytest

from eval_platform.drift.mix import decompose, js_divergence


def _cells(rows):
    return pl.DataFrame(rows, schema={"task_type": pl.String, "n": pl.Int64, "passes": pl.Int64}, orient="row")


def test_js_divergence_zero_for_identical_and_bounded():
    assert js_divergence({"a": 3, "b": 1}, {"a": 30, "b": 10}) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence({"a": 1}, {"b": 1}) == pytest.approx(1.0)
    mid = js_divergence({"a": 0.5, "b": 0.5}, {"a": 0.9, "b": 0.1})
    assert 0 < mid < 1
    assert math.isnan(js_divergence({}, {"a": 1}))


def test_decomposition_matches_hand_computed_example():
    # baseline: 80 qa (pass 0.9), 20 code (pass 0.5) -> R0 = 0.82
    # now:      50 qa (pass 0.8), 50 code (pass 0.5) -> R1 = 0.65, total = -0.17
    base = _cells([("qa", 80, 72), ("code", 20, 10)])
    now = _cells([("qa", 50, 40), ("code", 50, 25)])
    got = decompose(base, now)
    # mix:     (0.5-0.8)*(0.9+0.8)/2 + (0.5-0.2)*(0.5+0.5)/2 = -0.255 + 0.15 = -0.105
    # quality: (0.8-0.9)*(0.8+0.5)/2 + 0 = -0.065
    assert got["baseline_rate"] == pytest.approx(0.82)
    assert got["current_rate"] == pytest.approx(0.65)
    assert got["mix_effect"] == pytest.approx(-0.105)
    assert got["quality_effect"] == pytest.approx(-0.065)
    assert got["mix_effect"] + got["quality_effect"] == pytest.approx(got["total"], abs=1e-12)


def test_pure_mix_shift_has_no_quality_effect_and_new_types_still_add_up():
    base = _cells([("qa", 90, 81), ("chat", 10, 10)])
    now = _cells([("qa", 40, 36), ("chat", 10, 10), ("code", 50, 20)])  # code is new
    got = decompose(base, now)
    assert got["quality_effect"] == pytest.approx(0.0, abs=1e-12)
    assert got["mix_effect"] == pytest.approx(got["total"], abs=1e-12)
    assert got["total"] < 0


def test_empty_period_gives_nan():
    assert math.isnan(decompose(_cells([]), _cells([("qa", 1, 1)]))["total"])


def test_without_a_baseline_the_current_rate_is_still_reported():
    """The first week has no baseline: nothing to split, but today's pass rate is known and kept."""
    got = decompose(_cells([]), _cells([("qa", 4, 3), ("code", 4, 1)]))
    assert got["current_rate"] == pytest.approx(0.5)
    assert all(math.isnan(got[k]) for k in ("baseline_rate", "total", "mix_effect", "quality_effect"))
