"""What the CLI prints: the run summary and the gap table, read from the warehouse."""

from __future__ import annotations

from datetime import date

import polars as pl

from eval_platform.config import DataDir
from eval_platform.warehouse import connect

_SUMMARY_SQL = """
SELECT
  (SELECT count(*) FROM log_records) AS records,
  (SELECT count(*) FROM log_quarantine) AS quarantined,
  (SELECT coalesce(sum(skipped), 0) FROM ingest_files) AS skipped,
  (SELECT count(*) FROM ingest_files) AS files,
  (SELECT count(*) FROM sessions) AS sessions,
  (SELECT count(*) FROM corpus_latest) AS corpus_items,
  (SELECT count(*) FROM eval_responses WHERE eval_run_id = (SELECT eval_run_id FROM eval_responses ORDER BY created_at DESC LIMIT 1)) AS calls,
  (SELECT count(*) FILTER (WHERE status = 'error') FROM eval_responses WHERE eval_run_id = (SELECT eval_run_id FROM eval_responses ORDER BY created_at DESC LIMIT 1)) AS call_errors,
  (SELECT coalesce(sum(cost_usd) FILTER (WHERE NOT cached), 0) FROM eval_responses WHERE eval_run_id = (SELECT eval_run_id FROM eval_responses ORDER BY created_at DESC LIMIT 1)) AS spend_usd,
  (SELECT count(*) FROM path_gaps WHERE flagged AND window_end = ?) AS flagged_gaps
"""


def run_summary(data: DataDir, window_end: date) -> str:
    with connect(data.warehouse, read_only=True) as conn:
        row = conn.sql(_SUMMARY_SQL, params=[window_end]).pl().row(0, named=True)
        paths = conn.sql(
            "SELECT routing_path, requests, round(share * 100, 2) AS share_pct, meaningful FROM routing_traffic "
            "WHERE window_end = ? ORDER BY requests DESC", params=[window_end]
        ).pl()
    lines = [
        f"window ending {window_end}",
        f"  ingested: {row['files']} file(s), {row['records']} records, {row['quarantined']} quarantined, {row['skipped']} skipped",
        f"  sessions: {row['sessions']}",
        f"  corpus:   {row['corpus_items']} items in the latest version",
        f"  evals:    {row['calls']} calls in the last eval run, {row['call_errors']} errors, ${row['spend_usd']:.4f} spent",
        f"  gaps:     {row['flagged_gaps']} flagged",
    ]
    if paths.height:
        lines.append("  traffic (7-day window):")
        lines += [f"    {r['routing_path']:<16} {r['requests']:>7} requests  {r['share_pct']:>6}%{'' if r['meaningful'] else '  (no slice: below threshold)'}" for r in paths.iter_rows(named=True)]
    return "\n".join(lines)


def latest_gaps(data: DataDir, source: str | None = None) -> pl.DataFrame:
    with connect(data.warehouse, read_only=True) as conn:
        return conn.sql(
            """SELECT source, window_end, routing_path, scorer, model, n, passes, round(pass_rate, 3) AS pass_rate,
                      round(ci_low, 3) AS ci_low, round(ci_high, 3) AS ci_high, round(rest_pass_rate, 3) AS rest_rate,
                      round(gap, 3) AS gap, round(q_value, 4) AS q_value, flagged, round(min_detectable_gap, 3) AS mdg, note
               FROM path_gaps
               WHERE window_end = (SELECT max(window_end) FROM path_gaps) AND (? IS NULL OR source = ?)
               ORDER BY source, scorer, gap NULLS LAST""",
            params=[source, source],
        ).pl()


def gap_table(data: DataDir, source: str | None = None, fmt: str = "table") -> str:
    gaps = latest_gaps(data, source)
    if gaps.is_empty():
        return "no gap table yet: run `eval-platform run` first"
    if fmt == "csv":
        return gaps.write_csv()
    if fmt == "json":
        return gaps.write_json()
    flagged = gaps.filter(pl.col("flagged"))
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=200, fmt_str_lengths=40, tbl_hide_dataframe_shape=True):
        body = str(gaps.drop("window_end"))
    verdict = (
        "flagged: " + "; ".join(f"{r['routing_path']} on {r['scorer']} ({r['source']}, gap {r['gap']:+.2f})" for r in flagged.iter_rows(named=True))
        if flagged.height else "no path is flagged"
    )
    return f"Gap table, window ending {gaps['window_end'][0]} (gap = path pass rate - rest of paths; flagged = q < alpha and gap <= -min_gap)\n{body}\n{verdict}"
