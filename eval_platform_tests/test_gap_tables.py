"""gaps.tables: path_gaps (unpaired, vs the rest) and model_matrix (paired against the serving model)."""

from datetime import date

import polars as pl
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from eval_platform.gaps import stats
from eval_platform.gaps.tables import ALL_SERVING, NO_SLICE, PATH_GAPS_SCHEMA, model_matrix, path_gaps

DAY = date(2026, 11, 14)
PATHS = ["primary", "fallback", "code", "reasoning"]


def _rows(path, scorer, passes, n, model=None, na=0):
    rows = [{"routing_path": path, "scorer": scorer, "passed": i < passes, "model": model or f"m/{path}"} for i in range(n)]
    return rows + [{"routing_path": path, "scorer": scorer, "passed": None, "model": model or f"m/{path}"}] * na


def _gaps(rows, **kwargs):
    kwargs = {"source": "offline", "window_end": DAY, "alpha": 0.05, "min_gap": 0.10} | kwargs
    return path_gaps(pl.DataFrame(rows), **kwargs)


def test_planted_gap_is_flagged_and_clean_paths_are_not():
    rows = _rows("fallback", "valid_citation", 12, 30, na=5)
    for path in ["primary", "code", "reasoning"]:
        rows += _rows(path, "valid_citation", 28, 30) + _rows(path, "tone_policy", 29, 30)
    rows += _rows("fallback", "tone_policy", 29, 30)
    out = _gaps(rows, meaningful_paths=PATHS, all_paths=PATHS + ["experimental"])
    assert out.schema == pl.Schema(PATH_GAPS_SCHEMA)
    flagged = out.filter("flagged")
    assert flagged.select("routing_path", "scorer").rows() == [("fallback", "valid_citation")]
    row = flagged.row(0, named=True)
    assert (row["n"], row["passes"], row["rest_n"]) == (30, 12, 90)  # n/a rows excluded
    assert row["gap"] == pytest.approx(12 / 30 - 84 / 90)
    assert row["gap_ci_low"] < row["gap"] < row["gap_ci_high"] < 0
    assert row["p_value"] == pytest.approx(stats.path_gap_test(12, 30, 84, 90))
    assert row["model"] == "m/fallback" and row["min_detectable_gap"] > 0
    # clean paths with equal rates: gap 0, nothing flagged
    tone = out.filter((pl.col("scorer") == "tone_policy") & pl.col("n").is_not_null())
    assert tone["gap"].to_list() == pytest.approx([0.0] * 4) and not tone["flagged"].any()


def test_path_without_a_slice_gets_the_note():
    rows = _rows("primary", "tone_policy", 29, 30) + _rows("fallback", "tone_policy", 20, 30)
    rows += _rows("experimental", "tone_policy", 0, 3)  # below the threshold: neither tested nor in the rest
    out = _gaps(rows, meaningful_paths=["primary", "fallback"])
    exp = out.filter(pl.col("routing_path") == "experimental").row(0, named=True)
    assert exp["note"] == NO_SLICE and exp["n"] is None and exp["flagged"] is False and exp["p_value"] is None
    assert out.filter(pl.col("routing_path") == "primary")["rest_n"].item() == 30


def test_q_values_are_benjamini_hochberg_across_every_row():
    rows = []
    for scorer, bad in [("a", 12), ("b", 20), ("c", 26)]:
        rows += _rows("fallback", scorer, bad, 30) + _rows("primary", scorer, 28, 30) + _rows("code", scorer, 27, 30)
    out = _gaps(rows).sort("routing_path", "scorer")
    expected = multipletests(out["p_value"].to_numpy(), method="fdr_bh")[1]
    assert out["q_value"].to_list() == pytest.approx(list(expected))


def test_better_paths_are_not_flagged_and_several_models_say_all_serving():
    rows = _rows("primary", "s", 10, 30) + _rows("code", "s", 10, 30)
    rows += _rows("fallback", "s", 15, 15, model="m/one") + _rows("fallback", "s", 15, 15, model="m/two")
    out = _gaps(rows)
    fallback = out.filter(pl.col("routing_path") == "fallback").row(0, named=True)
    assert fallback["gap"] > 0.5 and fallback["q_value"] < 0.05 and fallback["flagged"] is False
    assert fallback["model"] == ALL_SERVING


def test_small_gap_below_min_gap_is_not_flagged_even_when_significant():
    rows = _rows("primary", "s", 9500, 10000) + _rows("fallback", "s", 9100, 10000)
    row = _gaps(rows, min_gap=0.10).filter(pl.col("routing_path") == "fallback").row(0, named=True)
    assert row["q_value"] < 0.05 and row["flagged"] is False


def test_empty_scores_give_an_empty_table():
    empty = pl.DataFrame(schema={"routing_path": pl.String, "scorer": pl.String, "passed": pl.Boolean})
    assert _gaps(empty).height == 0


def _matrix_scores():
    # path "fallback": serving model S (70% share) and S2 (30%), alternative F; 10 shared items.
    s = [True, True, True, True, True, False, False, False, True, False]
    f = [True, True, True, True, True, True, True, True, False, False]  # both 5, F only 3, S only 1, neither 1
    s2 = [True] * 10
    rows = []
    for model, passed in [("S", s), ("F", f), ("S2", s2)]:
        for i, p in enumerate(passed):
            rows.append({"corpus_item_id": f"i{i}", "routing_path": "fallback", "model": model, "scorer": "valid_citation",
                         "passed": p, "status": "ok", "cost_usd": 0.01 if model == "F" else 0.001})
    rows.append({"corpus_item_id": "i10", "routing_path": "fallback", "model": "F", "scorer": "valid_citation",
                 "passed": None, "status": "error", "cost_usd": None})
    candidates = pl.DataFrame({"routing_path": ["fallback"] * 3, "model": ["S", "S2", "F"],
                               "role": ["serving", "serving", "alternative"], "share_of_path": [0.7, 0.3, None]})
    return pl.DataFrame(rows), candidates


def test_model_matrix_paired_delta_matches_hand_computed_mcnemar():
    scores, candidates = _matrix_scores()
    out = model_matrix(scores, candidates, corpus_version="v1")
    f = out.filter(pl.col("model") == "F").row(0, named=True)
    assert (f["role"], f["n"], f["passes"], f["errors"]) == ("alternative", 10, 8, 1)
    assert f["cost_usd"] == pytest.approx(0.10)
    assert f["delta_vs_serving"] == pytest.approx((3 - 1) / 10)  # 0.8 - 0.6 on the 10 shared items
    assert f["p_value"] == pytest.approx(mcnemar([[5, 3], [1, 1]], exact=True).pvalue)
    assert (f["delta_ci_low"], f["delta_ci_high"]) == pytest.approx(stats.paired_interval(5, 3, 1, 1))
    s = out.filter(pl.col("model") == "S").row(0, named=True)
    assert s["delta_vs_serving"] is None and s["p_value"] is None  # the reference itself
    s2 = out.filter(pl.col("model") == "S2").row(0, named=True)
    assert s2["role"] == "serving" and s2["delta_vs_serving"] == pytest.approx(0.4)
    tested = out.filter(pl.col("p_value").is_not_null()).sort("model")
    assert tested["q_value"].to_list() == pytest.approx(list(multipletests(tested["p_value"].to_numpy(), method="fdr_bh")[1]))
    assert out["corpus_version"].unique().to_list() == ["v1"]
