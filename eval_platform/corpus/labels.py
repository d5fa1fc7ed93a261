"""Corpus labels: should_refuse and needs_citation, from rules, overridden per record by the team.

Rules (config `corpus.labels`): should_refuse when the task type is one of `refuse_task_types` or the
prompt matches any `prohibited_patterns` regex (case-insensitive, Rust regex syntax: no look-around);
needs_citation when the task type is one of `citation_task_types`. `labels/overrides.csv` then replaces
a rule's value by record_id (a blank cell keeps the rule's value; the last row for a record wins).
`label_source` says where the labels came from: "rule", "override" or "golden".
"""

from __future__ import annotations

import polars as pl

from eval_platform.config import LabelRules
from eval_platform.labels import as_bool


def prohibited_regex(rules: LabelRules) -> str | None:
    """The configured prohibited patterns as one case-insensitive regex (each checked by config.Regex)."""
    if not rules.prohibited_patterns:
        return None
    return "(?i)" + "|".join(f"(?:{p})" for p in rules.prohibited_patterns)


def rule_labels(rules: LabelRules) -> list[pl.Expr]:
    """Expressions over `task_type` and `prompt` giving the rule labels."""
    task = pl.col("task_type")
    refuse = task.is_in(rules.refuse_task_types).fill_null(False)
    regex = prohibited_regex(rules)
    if regex is not None:
        refuse = refuse | pl.col("prompt").str.contains(regex).fill_null(False)
    return [
        refuse.alias("should_refuse"),
        task.is_in(rules.citation_task_types).fill_null(False).alias("needs_citation"),
        pl.lit("rule").alias("label_source"),
    ]


def _override_table(overrides: pl.DataFrame | None) -> pl.DataFrame:
    schema = {"record_id": pl.String, "should_refuse": pl.Boolean, "needs_citation": pl.Boolean}
    if overrides is None or overrides.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        overrides.select(pl.col("record_id").cast(pl.String).str.strip_chars(), as_bool("should_refuse"), as_bool("needs_citation"))
        .filter(pl.col("record_id").is_not_null() & (pl.col("record_id") != ""))
        .unique("record_id", keep="last", maintain_order=True)
    )


def label_items(items: pl.DataFrame, rules: LabelRules, overrides: pl.DataFrame | None) -> pl.DataFrame:
    """Add should_refuse, needs_citation and label_source to corpus items (columns record_id, task_type, prompt)."""
    labelled = items.with_columns(rule_labels(rules))
    table = _override_table(overrides).rename({"should_refuse": "_o_refuse", "needs_citation": "_o_citation"})
    overridden = pl.col("_o_refuse").is_not_null() | pl.col("_o_citation").is_not_null()
    return (
        labelled.join(table, on="record_id", how="left", nulls_equal=False)
        .with_columns(
            pl.coalesce("_o_refuse", "should_refuse").alias("should_refuse"),
            pl.coalesce("_o_citation", "needs_citation").alias("needs_citation"),
            pl.when(overridden).then(pl.lit("override")).otherwise(pl.col("label_source")).alias("label_source"),
        )
        .drop("_o_refuse", "_o_citation")
    )


def golden_labels(golden: pl.DataFrame, rules: LabelRules) -> pl.DataFrame:
    """Golden items keep their curated labels; a blank label falls back to the rule's value."""
    curated = golden.with_columns(as_bool("should_refuse").alias("_g_refuse"), as_bool("needs_citation").alias("_g_citation"))
    return (
        curated.drop("should_refuse", "needs_citation")
        .with_columns(rule_labels(rules))
        .with_columns(
            pl.coalesce("_g_refuse", "should_refuse").alias("should_refuse"),
            pl.coalesce("_g_citation", "needs_citation").alias("needs_citation"),
            pl.lit("golden").alias("label_source"),
        )
        .drop("_g_refuse", "_g_citation")
    )
