"""Scoring assets: the same model-agnostic scorers, offline on eval responses and online on served ones."""


from datetime import date

import dagster as dg
import polars as pl

from eval_platform.corpus.labels import label_items
from eval_platform.evals.assets import corpus_version_for
from eval_platform.labels import read_overrides
from eval_platform.partitions import daily
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.scores.registry import score_frame
from eval_platform.warehouse import replace_rows

_OFFLINE_INPUT_SQL = """
SELECT r.response_id AS item_id, r.response_id, r.corpus_item_id, r.corpus_version, r.routing_path, r.model,
       r.response, r.status, c.prompt, c.task_type, c.should_refuse, c.needs_citation, c.retrieved_sources
FROM eval_responses r JOIN corpus_items c ON c.corpus_item_id = r.corpus_item_id AND c.corpus_version = r.corpus_version
WHERE r.corpus_version = ?
"""


def _judge(frame: pl.DataFrame, platform: Platform, run_id: str) -> pl.DataFrame | None:
    """llm_judge rows through the engine (cached like every call), or None when the judge is disabled."""
    cfg = platform.config
    if not cfg.scorers.llm_judge.enabled:
        return None
    from eval_platform.evals.demo_models import register_demo_provider
    from eval_platform.evals.engine import run_requests_sync
    from eval_platform.evals.response_store import ResponseStore
    from eval_platform.scores.judge import judge_scores

    if cfg.scorers.llm_judge.model.startswith("demo/"):
        register_demo_provider()
    store = ResponseStore(platform.data.response_store)
    # evals.budget_usd is per run: the engine counts what eval_responses spent under this run_id
    return judge_scores(
        frame, cfg.scorers,
        lambda requests: run_requests_sync(requests, store=store, limits_for=cfg.evals.limits_for,
                                           budget_usd=cfg.evals.budget_usd, run_id=run_id),
    )


def _summary(scores: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return (
        scores.group_by(by + ["scorer"])
        .agg(n=pl.col("passed").is_not_null().sum(), passes=pl.col("passed").sum(), not_applicable=pl.col("passed").is_null().sum())
        .with_columns(pass_rate=(pl.col("passes") / pl.col("n")).round(3))
        .sort(by + ["scorer"])
    )


@dg.asset(
    deps=["eval_responses"],
    partitions_def=daily,
    group_name="scores",
    kinds={"polars", "duckdb"},
    owners=["team:evals"],
    pool="warehouse",
)
def eval_scores(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Every eval response of the partition's corpus version, scored by every registered scorer
    (NULL = the property does not apply to that item)."""
    day = date.fromisoformat(context.partition_key)
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        inputs = conn.sql(_OFFLINE_INPUT_SQL, params=[version]).pl()
    scores = score_frame(inputs, platform.config.scorers)
    judged = _judge(inputs, platform, context.run_id)
    if judged is not None:
        scores = pl.concat([scores, judged], how="diagonal_relaxed")
    keyed = scores.rename({"item_id": "response_id"}).join(
        inputs.select("response_id", "corpus_version", "routing_path", "model", "corpus_item_id"), on="response_id", how="left"
    )
    with platform.warehouse() as conn:
        replace_rows(conn, "eval_scores", keyed, "corpus_version = ?", [version])
    return dg.MaterializeResult(
        metadata={"corpus_version": version, "scores": keyed.height,
                  "pass_rates": dg.MetadataValue.md(markdown_preview(_summary(keyed, ["routing_path", "model"]), rows=80))}
    )


@dg.asset(
    deps=["log_records"],
    partitions_def=daily,
    group_name="scores",
    kinds={"polars", "duckdb"},
    owners=["team:evals"],
    pool="warehouse",
)
def online_scores(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """The responses users actually got on the partition day, sampled deterministically by record id at
    `online.sample_rate` (md5 of the id: the same records on every run and every machine), scored by
    the same deterministic scorers as the offline corpus."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    with platform.warehouse() as conn:
        records = conn.sql(
            """SELECT record_id AS item_id, record_id, day, routing_path, served_model, task_type, prompt, response,
                      status, retrieved_sources
               FROM log_records
               WHERE day = ? AND (md5_number_lower(record_id) % 1000000) < ? * 1000000""",
            params=[day, cfg.online.sample_rate],
        ).pl()
    labelled = label_items(records, cfg.corpus.labels, read_overrides(platform.data.labels))
    scores = score_frame(labelled, cfg.scorers)
    keyed = scores.rename({"item_id": "record_id"}).join(
        labelled.select("record_id", "day", "routing_path", "served_model", "task_type"), on="record_id", how="left"
    )
    with platform.warehouse() as conn:
        replace_rows(conn, "online_scores", keyed, "day = ?", [day])
    return dg.MaterializeResult(
        metadata={"records_scored": records.height, "sample_rate": cfg.online.sample_rate,
                  "pass_rates": dg.MetadataValue.md(markdown_preview(_summary(keyed, ["routing_path"]), rows=60))}
    )
