"""Eval assets: which models each slice runs against, and the responses they gave (through litellm)."""


import hashlib
import json
import os
import sys
import time
from datetime import date

import dagster as dg
import polars as pl

from eval_platform.partitions import WINDOW, daily
from eval_platform.publish.metadata import markdown_preview
from eval_platform.resources import Platform
from eval_platform.sessions.build import window_bounds
from eval_platform.warehouse import replace_rows, scalar

ERROR_RATE_CHECK = "eval_error_rate"
MAX_ERROR_RATE = 0.2

_VERSION_SQL = "SELECT corpus_version FROM corpus_versions WHERE window_end = ? ORDER BY created_at DESC LIMIT 1"

_SERVING_SQL = """
WITH serving AS (  -- answered calls: a failed LiteLLM call has no response, so its name is the deployment's
    SELECT routing_path, served_model AS model, count(*) AS n FROM log_records
    WHERE day BETWEEN ? AND ? AND served_model IS NOT NULL AND status = 'ok' GROUP BY ALL
)
SELECT routing_path, model, 'serving' AS role, n / sum(n) OVER (PARTITION BY routing_path) AS share_of_path
FROM serving WHERE routing_path IN (SELECT DISTINCT routing_path FROM corpus_items WHERE corpus_version = ?)
"""


def corpus_version_for(conn, day: date) -> str:
    version = scalar(conn, _VERSION_SQL, [day])
    if version is None:
        raise dg.Failure(f"no corpus version for the window ending {day}: materialize corpus_items for {day} first")
    return version


def candidate_frame(serving: pl.DataFrame, alternatives_all: list[str], alternatives_by_path: dict[str, list[str]]) -> pl.DataFrame:
    """Serving models of each sliced path plus the configured alternatives (not already serving it)."""
    paths = serving["routing_path"].unique().sort().to_list()
    alt = pl.DataFrame(
        [{"routing_path": p, "model": m, "role": "alternative", "share_of_path": 0.0}
         for p in paths for m in dict.fromkeys(alternatives_all + alternatives_by_path.get(p, []))],
        schema={"routing_path": pl.String, "model": pl.String, "role": pl.String, "share_of_path": pl.Float64},
    )
    alt = alt.join(serving.select("routing_path", "model"), on=["routing_path", "model"], how="anti")
    return pl.concat([serving.select(alt.columns), alt]).sort("routing_path", "role", "model", descending=[False, True, False])


@dg.asset(
    deps=["corpus_items", dg.AssetDep("log_records", partition_mapping=WINDOW)],
    partitions_def=daily,
    group_name="evals",
    kinds={"duckdb", "polars"},
    owners=["team:evals"],
    pool="warehouse",
)
def eval_candidates(context: dg.AssetExecutionContext, platform: Platform) -> dg.MaterializeResult:
    """Per sliced routing path: every model that served it in the window (with its share of the path's
    traffic) plus the configured alternatives a team would consider swapping in."""
    day, cfg = date.fromisoformat(context.partition_key), platform.config
    start, end = window_bounds(day, cfg.traffic.window_days)
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        serving = conn.sql(_SERVING_SQL, params=[start, end, version]).pl()
        candidates = candidate_frame(serving, cfg.evals.alternatives_all_paths, cfg.evals.alternatives_by_path)
        replace_rows(conn, "eval_candidates", candidates.with_columns(corpus_version=pl.lit(version)), "corpus_version = ?", [version])
    return dg.MaterializeResult(
        metadata={"corpus_version": version, "candidates": dg.MetadataValue.md(markdown_preview(candidates.with_columns(pl.col("share_of_path").round(4)), rows=50))}
    )


def build_requests(items: pl.DataFrame, candidates: pl.DataFrame, params: dict, repeats: int) -> list:
    """Every slice item x every candidate of its path x every repeat, as engine requests."""
    from eval_platform.evals.engine import ModelRequest

    pairs = items.join(candidates, on="routing_path", how="inner").sort("routing_path", "corpus_item_id", "model")
    return [
        ModelRequest(
            model=row["model"], messages=tuple(json.loads(row["messages"])), params=dict(params), repeat_index=r,
            meta={"corpus_item_id": row["corpus_item_id"], "routing_path": row["routing_path"], "corpus_version": row["corpus_version"]},
        )
        for row in pairs.iter_rows(named=True)
        for r in range(repeats)
    ]


def _cli_progress_bar(total: int):
    """A tqdm bar when `eval-platform run` drives the step from a terminal; None under the daemon."""
    terminal = sys.__stderr__  # the process's own stderr: Dagster may capture sys.stderr during a step
    if os.environ.get("EVAL_PLATFORM_PROGRESS_BAR") != "1" or terminal is None or not terminal.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="eval calls", unit="call", file=terminal)


class EvalRunConfig(dg.Config):
    """Run config of eval_responses (set it in the launchpad)."""

    force: bool = False  # re-send every call even when its response is stored


def run_slice_evals(
    platform: Platform, day: date, run_id: str, log, paths: list[str] | None = None, force: bool = False
) -> tuple[str, pl.DataFrame]:
    """Run the corpus version of `day` (or only the slices of `paths`) against its candidates and replace
    those rows of eval_responses. Shared by the daily asset and the per-path variant (deploy/)."""
    from eval_platform.evals.demo_models import register_demo_provider
    from eval_platform.evals.engine import run_requests_sync
    from eval_platform.evals.response_store import ResponseStore

    cfg = platform.config
    with platform.warehouse() as conn:
        version = corpus_version_for(conn, day)
        items = conn.sql("SELECT corpus_item_id, corpus_version, routing_path, messages FROM corpus_items WHERE corpus_version = ?", params=[version]).pl()
        candidates = conn.sql("SELECT routing_path, model FROM eval_candidates WHERE corpus_version = ?", params=[version]).pl()
        empty = conn.sql("SELECT * FROM eval_responses LIMIT 0").pl()
    if paths is not None:
        items = items.filter(pl.col("routing_path").is_in(paths))
    if items.height and candidates.is_empty():
        raise ValueError(f"corpus {version}: {items.height} items but no eval_candidates; materialize eval_candidates first")
    requests = build_requests(items, candidates, cfg.evals.params, cfg.evals.repeats)
    if not requests:  # nothing to run (an empty slice): the version's rows are replaced by none
        log.info(f"corpus {version}: no items to run{' on ' + ', '.join(paths) if paths else ''}")
        with platform.warehouse() as conn:
            where, params = _responses_slice(version, paths)
            replace_rows(conn, "eval_responses", None, where, params)
        return version, empty
    if any(r.model.startswith("demo/") for r in requests):
        register_demo_provider()
    log.info(f"corpus {version}: {items.height} items x candidates = {len(requests)} calls (budget ${cfg.evals.budget_usd})")

    bar = _cli_progress_bar(len(requests))
    last_log = [0.0]

    def report(p) -> None:
        if bar is not None:
            bar.update(p.done - bar.n)
            bar.set_postfix_str(f"{p.errors} errors, {p.cached} cached, ${p.spend_usd:.4f}")
        if time.monotonic() - last_log[0] >= 5 or p.done == p.total:
            last_log[0] = time.monotonic()
            eta = f", ETA {p.eta_s:.0f}s" if p.eta_s is not None else ""
            log.info(f"evals: {p.done}/{p.total} done, {p.cached} cached, {p.errors} errors, ${p.spend_usd:.4f} spent{eta}")

    rows = run_requests_sync(
        requests, store=ResponseStore(platform.data.response_store), limits_for=cfg.evals.limits_for,
        budget_usd=cfg.evals.budget_usd, run_id=run_id, progress=report, force=force,
        progress_every_s=0.5 if bar is not None else 5.0,
    )
    if bar is not None:
        bar.close()
    keys = rows.select(pl.concat_str("corpus_version", "corpus_item_id", "model", pl.col("repeat_index").cast(pl.String), separator="|"))
    responses = rows.with_columns(
        response_id=pl.Series([hashlib.sha256(k.encode()).hexdigest()[:32] for k in keys.to_series()], dtype=pl.String),
        eval_run_id=pl.lit(run_id),
    )
    with platform.warehouse() as conn:
        where, params = _responses_slice(version, paths)
        replace_rows(conn, "eval_responses", responses, where, params)
    return version, responses


def _responses_slice(version: str, paths: list[str] | None) -> tuple[str, list]:
    """The eval_responses rows a run replaces: the version's, or only those of `paths`."""
    if paths is None:
        return "corpus_version = ?", [version]
    return "corpus_version = ? AND routing_path IN (SELECT unnest(?::VARCHAR[]))", [version, paths]


@dg.asset(
    deps=["eval_candidates", "corpus_items"],
    partitions_def=daily,
    group_name="evals",
    kinds={"litellm", "duckdb"},
    owners=["team:evals"],
    pool="model_calls",
    check_specs=[dg.AssetCheckSpec(ERROR_RATE_CHECK, asset="eval_responses", description=f"At most {MAX_ERROR_RATE:.0%} of eval calls end in an error.")],
)
def eval_responses(context: dg.AssetExecutionContext, platform: Platform, config: EvalRunConfig) -> dg.MaterializeResult:
    """Every slice of the corpus version run against every candidate model through litellm. Responses
    are stored as they arrive, keyed by request hash: a re-run or a killed run pays for nothing twice."""
    started = time.monotonic()
    version, responses = run_slice_evals(
        platform, date.fromisoformat(context.partition_key), context.run_id, context.log, force=config.force
    )
    summary = responses.group_by("routing_path", "model").agg(
        calls=pl.len(), errors=(pl.col("status") == "error").sum(), skipped=(pl.col("status") == "skipped_budget").sum(),
        cached=pl.col("cached").sum(), cost_usd=pl.col("cost_usd").sum(),
    ).sort("routing_path", "model")
    errors = int((responses["status"] == "error").sum())
    rate = errors / max(responses.height, 1)
    return dg.MaterializeResult(
        metadata={
            "corpus_version": version, "calls": responses.height, "errors": errors,
            "cached": int(responses["cached"].sum()), "spend_usd": float(responses.filter(~pl.col("cached"))["cost_usd"].sum() or 0.0),
            "wall_seconds": round(time.monotonic() - started, 2),
            "by_path_and_model": dg.MetadataValue.md(markdown_preview(summary, rows=60)),
        },
        check_results=[dg.AssetCheckResult(check_name=ERROR_RATE_CHECK, passed=rate <= MAX_ERROR_RATE, severity=dg.AssetCheckSeverity.WARN, metadata={"error_rate": rate})],
    )
