"""gaps.stats against independent references (statsmodels, scipy) and hand computations."""

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from eval_platform.gaps import stats


@pytest.mark.parametrize(("passes", "n"), [(0, 1), (1, 1), (0, 5), (5, 5), (3, 7), (12, 30), (28, 30), (30, 30), (0, 30), (480, 500)])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_wilson_matches_statsmodels(passes, n, alpha):
    expected = proportion_confint(passes, n, alpha=alpha, method="wilson")
    assert stats.wilson_interval(passes, n, alpha) == pytest.approx(expected, abs=1e-12)


def test_wilson_of_nothing_is_nan():
    assert all(math.isnan(v) for v in stats.wilson_interval(0, 0))


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(12, 30, 28, 30), (3, 10, 5, 12), (0, 30, 2, 90), (30, 30, 90, 90)])
def test_path_gap_test_is_boschloo_when_small(x1, n1, x2, n2):
    table = [[x1, x2], [n1 - x1, n2 - x2]]
    expected = sps.boschloo_exact(table, alternative="two-sided").pvalue
    got = stats.path_gap_test(x1, n1, x2, n2)
    if math.isnan(expected):  # degenerate tables: Fisher's answer
        expected = sps.fisher_exact(table).pvalue
    assert got == pytest.approx(min(1.0, expected), rel=1e-9)


def test_path_gap_test_falls_back_to_fisher_for_large_tables():
    assert stats.path_gap_test(400, 500, 4500, 5000) == pytest.approx(sps.fisher_exact([[400, 4500], [100, 500]]).pvalue)
    assert math.isnan(stats.path_gap_test(0, 0, 5, 10))


def test_planted_gap_is_significant_and_equal_rates_are_not():
    assert stats.path_gap_test(12, 30, 84, 90) < 1e-6
    assert stats.path_gap_test(28, 30, 84, 90) > 0.5


def test_gap_interval_is_newcombe_hybrid_score():
    # Newcombe (1998) example: 56/70 vs 48/80 -> 0.0524 to 0.3339 (method 10)
    low, high = stats.gap_interval(56, 70, 48, 80)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=5e-4)
    low, high = stats.gap_interval(12, 30, 84, 90)
    assert low < 12 / 30 - 84 / 90 < high < 0


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 1), (1, 0), (3, 9), (10, 2), (5, 5), (0, 12), (40, 25)])
def test_mcnemar_matches_statsmodels_exact(b, c):
    expected = mcnemar([[7, b], [c, 4]], exact=True).pvalue
    assert stats.mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_paired_interval_properties():
    # phi = 0 (independent-looking margins) reduces to the unpaired Newcombe interval with equal n
    both, only_a, only_b, neither = 4, 4, 4, 4
    n = 16
    assert stats.paired_interval(both, only_a, only_b, neither) == pytest.approx(stats.gap_interval(8, n, 8, n))
    low, high = stats.paired_interval(20, 1, 8, 1)  # A worse than B on 30 shared items
    assert -1 <= low < (1 - 8) / 30 < high <= 1
    # positive correlation narrows the interval compared with ignoring the pairing
    low_u, high_u = stats.gap_interval(21, 30, 28, 30)
    assert high - low < high_u - low_u
    assert all(math.isnan(v) for v in stats.paired_interval(0, 0, 0, 0))


def test_benjamini_hochberg_matches_statsmodels_and_ignores_nan():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.05, 5), rng.uniform(0, 1, 20)])
    expected = multipletests(p, method="fdr_bh")[1]
    assert stats.benjamini_hochberg(p) == pytest.approx(expected, rel=1e-12)
    with_nan = [0.01, float("nan"), 0.04, None, 0.03]
    q = stats.benjamini_hochberg(with_nan)
    assert math.isnan(q[1]) and math.isnan(q[3])
    assert q[[0, 2, 4]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1])
    assert all(math.isnan(v) for v in stats.benjamini_hochberg([float("nan")]))


def test_min_detectable_gap_reaches_the_power_it_claims():
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    d = stats.min_detectable_gap(30, 90, 0.95, alpha=0.05)
    assert 0.1 < d < 0.5
    # an independent power calculation (Cohen's h, arcsine) agrees to within a few points
    power = NormalIndPower().power(proportion_effectsize(0.95, 0.95 - d), nobs1=30, alpha=0.05, ratio=3)
    assert power == pytest.approx(0.8, abs=0.08)
    assert stats.min_detectable_gap(300, 900, 0.95) < d  # more items, smaller detectable gap
    assert math.isnan(stats.min_detectable_gap(0, 90, 0.9)) and math.isnan(stats.min_detectable_gap(30, 90, 0.0))
