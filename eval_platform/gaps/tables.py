"""Gap tables: pure polars functions the gap assets call (statistics in gaps.stats).

`path_gaps`: each routing path against the rest of the paths on the same scorer (unpaired). Only gaps
where the path is WORSE than the rest are flagged (q < alpha and gap <= -min_gap): a path doing better
than the others is not a problem to route around, and the table still shows its gap and q-value.
`model_matrix`: every candidate model on each path's slice, with the paired difference against the
path's main serving model on the items both answered (exact McNemar).
Counting is polars; the tests run once per output row (a few dozen rows), in Python.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from eval_platform.gaps import stats

ALL_SERVING = "all serving"
NO_SLICE = "no slice: below meaningful traffic threshold"
PATH_GAPS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(), "window_end": pl.Date(), "routing_path": pl.String(), "scorer": pl.String(),
    "model": pl.String(), "n": pl.Int64(), "passes": pl.Int64(), "pass_rate": pl.Float64(),
    "ci_low": pl.Float64(), "ci_high": pl.Float64(), "rest_n": pl.Int64(), "rest_pass_rate": pl.Float64(),
    "gap": pl.Float64(), "gap_ci_low": pl.Float64(), "gap_ci_high": pl.Float64(), "p_value": pl.Float64(),
    "q_value": pl.Float64(), "flagged": pl.Boolean(), "min_detectable_gap": pl.Float64(), "note": pl.String(),
}
MODEL_MATRIX_SCHEMA: dict[str, pl.DataType] = {
    "corpus_version": pl.String(), "routing_path": pl.String(), "model": pl.String(), "scorer": pl.String(),
    "role": pl.String(), "n": pl.Int64(), "passes": pl.Int64(), "pass_rate": pl.Float64(),
    "ci_low": pl.Float64(), "ci_high": pl.Float64(), "errors": pl.Int64(), "cost_usd": pl.Float64(),
    "delta_vs_serving": pl.Float64(), "delta_ci_low": pl.Float64(), "delta_ci_high": pl.Float64(),
    "p_value": pl.Float64(), "q_value": pl.Float64(),
}


def _nan_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def _path_counts(scores: pl.DataFrame) -> pl.DataFrame:
    """n, passes and the serving model label per (routing_path, scorer) over applicable rows."""
    model = pl.col("model") if "model" in scores.columns else pl.lit(None, dtype=pl.String)
    return (
        scores.filter(pl.col("passed").is_not_null())
        .with_columns(model.cast(pl.String).alias("model"))
        .group_by("routing_path", "scorer")
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("passed").sum().cast(pl.Int64).alias("passes"),
            pl.col("model").drop_nulls().unique().alias("_models"),
        )
        .with_columns(
            pl.when(pl.col("_models").list.len() == 1).then(pl.col("_models").list.first())
            .otherwise(pl.lit(ALL_SERVING)).alias("model")
        )
        .drop("_models")
    )


def _test_row(row: dict, alpha: float) -> dict:
    n, passes, rest_n, rest_passes = row["n"], row["passes"], row["rest_n"], row["rest_passes"]
    ci_low, ci_high = stats.wilson_interval(passes, n, alpha)
    rest_rate = rest_passes / rest_n if rest_n else float("nan")
    gap_low, gap_high = stats.gap_interval(passes, n, rest_passes, rest_n, alpha)
    return {
        "pass_rate": passes / n, "ci_low": ci_low, "ci_high": ci_high, "rest_pass_rate": rest_rate,
        "gap": passes / n - rest_rate, "gap_ci_low": gap_low, "gap_ci_high": gap_high,
        "p_value": stats.path_gap_test(passes, n, rest_passes, rest_n),
        "min_detectable_gap": stats.min_detectable_gap(n, rest_n, rest_rate, alpha),
        "note": None if rest_n else "no other path to compare with",
    }


def path_gaps(
    scores: pl.DataFrame,
    *,
    source: str,
    window_end: date,
    alpha: float,
    min_gap: float,
    meaningful_paths: list[str] | None = None,
    all_paths: list[str] | None = None,
) -> pl.DataFrame:
    """One row per (routing_path, scorer): the path's pass rate against the rest of the paths.

    `scores` has routing_path, scorer, passed (NULL = n/a, excluded) and optionally model. Paths outside
    `meaningful_paths` (None = every path is meaningful) are not tested and carry NO_SLICE; paths in
    `all_paths` without any score get a row per scorer saying so. q-values are Benjamini-Hochberg over
    every tested row of this call."""
    scorers = sorted(scores.get_column("scorer").unique().drop_nulls().to_list()) if scores.height else []
    paths = set(scores.get_column("routing_path").unique().drop_nulls().to_list()) | set(all_paths or [])
    meaningful = paths if meaningful_paths is None else set(meaningful_paths)
    tested = scores.filter(pl.col("routing_path").is_in(sorted(meaningful)))
    counts = _path_counts(tested)
    totals = counts.group_by("scorer").agg(pl.col("n").sum().alias("_n"), pl.col("passes").sum().alias("_p"))
    counts = counts.join(totals, on="scorer").with_columns(
        (pl.col("_n") - pl.col("n")).alias("rest_n"), (pl.col("_p") - pl.col("passes")).alias("rest_passes")
    )
    rows = []
    for row in counts.sort("routing_path", "scorer").iter_rows(named=True):
        rows.append({**row, **_test_row(row, alpha)})
    tested_keys = {(r["routing_path"], r["scorer"]) for r in rows}
    for path in sorted(paths):
        for name in scorers:
            if (path, name) not in tested_keys:
                note = NO_SLICE if path not in meaningful else "no applicable scored items"
                rows.append({"routing_path": path, "scorer": name, "note": note})
    if not rows:
        return pl.DataFrame(schema=PATH_GAPS_SCHEMA)
    table = _nan_to_null(pl.from_dicts(rows, infer_schema_length=None))
    q = stats.benjamini_hochberg(table.get_column("p_value").fill_null(float("nan")).to_numpy())
    table = table.with_columns(
        pl.Series("q_value", q).fill_nan(None),
        pl.lit(source).alias("source"),
        pl.lit(window_end, dtype=pl.Date).alias("window_end"),
    )
    flagged = (pl.col("q_value") < alpha) & (pl.col("gap") <= -min_gap)
    table = table.with_columns(flagged.fill_null(False).alias("flagged"))
    return table.select(pl.col(c).cast(t) if c in table.columns else pl.lit(None, dtype=t).alias(c)
                        for c, t in PATH_GAPS_SCHEMA.items()).sort("routing_path", "scorer")


def _reference_models(candidates: pl.DataFrame) -> pl.DataFrame:
    """The serving model with the largest share of each path's traffic (ties: by name)."""
    share = pl.col("share_of_path") if "share_of_path" in candidates.columns else pl.lit(0.0)
    return (
        candidates.filter(pl.col("role") == "serving")
        .with_columns(share.fill_null(0.0).alias("_share"))
        .sort(["routing_path", "_share", "model"], descending=[False, True, False])
        .group_by("routing_path", maintain_order=True)
        .first()
        .select("routing_path", pl.col("model").alias("reference_model"))
    )


def _paired_counts(scores: pl.DataFrame, references: pl.DataFrame) -> pl.DataFrame:
    """Per (path, model, scorer): 2x2 counts against the reference model on items both answered.
    With repeats, an item counts as passed when most of its answers passed."""
    per_item = (
        scores.filter(pl.col("passed").is_not_null())
        .group_by("routing_path", "model", "scorer", "corpus_item_id")
        .agg((pl.col("passed").cast(pl.Float64).mean() >= 0.5).alias("passed"))
    )
    reference = per_item.join(references, left_on=["routing_path", "model"], right_on=["routing_path", "reference_model"]).select(
        "routing_path", "scorer", "corpus_item_id", pl.col("passed").alias("ref_passed")
    )
    a, r = pl.col("passed"), pl.col("ref_passed")
    return (
        per_item.join(reference, on=["routing_path", "scorer", "corpus_item_id"], how="inner")
        .group_by("routing_path", "model", "scorer")
        .agg(
            (a & r).sum().alias("both"), (a & ~r).sum().alias("only_model"),
            (~a & r).sum().alias("only_reference"), (~a & ~r).sum().alias("neither"),
        )
    )


def model_matrix(scores: pl.DataFrame, candidates: pl.DataFrame, *, corpus_version: str, alpha: float = 0.05) -> pl.DataFrame:
    """Per (routing_path, model, scorer): pass rate with interval, errors, cost, and the paired delta
    against the path's main serving model (Newcombe paired interval, exact McNemar, BH q-values)."""
    if scores.height == 0:
        return pl.DataFrame(schema=MODEL_MATRIX_SCHEMA)
    cost = pl.col("cost_usd") if "cost_usd" in scores.columns else pl.lit(None, dtype=pl.Float64)
    status = pl.col("status") if "status" in scores.columns else pl.lit("ok")
    base = scores.group_by("routing_path", "model", "scorer").agg(
        pl.col("passed").is_not_null().sum().cast(pl.Int64).alias("n"),
        pl.col("passed").sum().cast(pl.Int64).alias("passes"),
        (status.fill_null("ok") != "ok").sum().cast(pl.Int64).alias("errors"),
        cost.cast(pl.Float64).sum().alias("cost_usd"),
    )
    references = _reference_models(candidates)
    table = (
        base.join(candidates.select("routing_path", "model", "role"), on=["routing_path", "model"], how="left")
        .join(references, on="routing_path", how="left")
        .join(_paired_counts(scores, references), on=["routing_path", "model", "scorer"], how="left")
        .sort("routing_path", "model", "scorer")
    )
    rows = []
    for row in table.iter_rows(named=True):
        ci_low, ci_high = stats.wilson_interval(row["passes"], row["n"], alpha)
        out = {**row, "pass_rate": row["passes"] / row["n"] if row["n"] else None, "ci_low": ci_low, "ci_high": ci_high}
        pairs = sum(row[k] or 0 for k in ("both", "only_model", "only_reference", "neither"))
        if row["model"] != row["reference_model"] and pairs:
            low, high = stats.paired_interval(row["both"], row["only_model"], row["only_reference"], row["neither"], alpha)
            out |= {
                "delta_vs_serving": (row["only_model"] - row["only_reference"]) / pairs,
                "delta_ci_low": low, "delta_ci_high": high,
                "p_value": stats.mcnemar_exact(row["only_model"], row["only_reference"]),
            }
        rows.append(out)
    result = _nan_to_null(pl.from_dicts(rows, infer_schema_length=None))
    for column in ("delta_vs_serving", "delta_ci_low", "delta_ci_high", "p_value"):
        if column not in result.columns:
            result = result.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    q = stats.benjamini_hochberg(result.get_column("p_value").cast(pl.Float64).fill_null(float("nan")).to_numpy())
    result = result.with_columns(pl.Series("q_value", q).fill_nan(None), pl.lit(corpus_version).alias("corpus_version"))
    return result.select(pl.col(c).cast(t) for c, t in MODEL_MATRIX_SCHEMA.items())
