"""What the CLI prints: the run summary and the gap table, read from the warehouse."""

from __future__ import annotations

from datetime import date

import polars as pl

from eval_platform.config import DataDir
from eval_platform.gaps.tables import NO_SLICE
from eval_platform.warehouse import connect

_SUMMARY_SQL = """
WITH last_eval AS (
    SELECT * FROM eval_responses
    WHERE eval_run_id = (SELECT eval_run_id FROM eval_responses ORDER BY created_at DESC LIMIT 1)
)
SELECT
  (SELECT count(*) FROM log_records) AS records,
  (SELECT count(*) FROM log_quarantine) AS quarantined,
  (SELECT coalesce(sum(skipped), 0) FROM ingest_files) AS skipped,
  (SELECT count(*) FROM ingest_files) AS files,
  (SELECT count(*) FROM sessions) AS sessions,
  (SELECT count(*) FROM corpus_latest) AS corpus_items,
  (SELECT count(*) FROM last_eval) AS calls,
  (SELECT count(*) FILTER (WHERE status = 'error') FROM last_eval) AS call_errors,
  (SELECT coalesce(sum(cost_usd) FILTER (WHERE NOT cached), 0) FROM last_eval) AS spend_usd,
  (SELECT count(*) FROM path_gaps WHERE flagged AND window_end = ?) AS flagged_gaps
"""


def run_summary(data: DataDir, window_end: date) -> str:
    with connect(data.warehouse, read_only=True) as conn:
        row = conn.sql(_SUMMARY_SQL, params=[window_end]).pl().row(0, named=True)
        paths = conn.sql(
            "SELECT routing_path, requests, round(share * 100, 2) AS share_pct, meaningful, "
            "window_end - window_start + 1 AS window_days FROM routing_traffic "
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
        lines.append(f"  traffic ({paths['window_days'][0]}-day window):")
        lines += [f"    {r['routing_path']:<16} {r['requests']:>7} requests  {r['share_pct']:>6}%{'' if r['meaningful'] else '  (no slice: below threshold)'}" for r in paths.iter_rows(named=True)]
    return "\n".join(lines)


def latest_gaps(data: DataDir, source: str | None = None) -> pl.DataFrame:
    """The newest window's path_gaps rows (optionally one source), worst gap first within each scorer."""
    with connect(data.warehouse, read_only=True) as conn:
        return conn.sql(
            """SELECT * FROM path_gaps
               WHERE window_end = (SELECT max(window_end) FROM path_gaps) AND (? IS NULL OR source = ?)
               ORDER BY source, scorer, gap NULLS LAST, routing_path""",
            params=[source, source],
        ).pl()


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "" if value is None else format(value, spec)


def _render(gaps: pl.DataFrame) -> str:
    head = f"{'source':<8} {'path':<14} {'scorer':<15} {'n':>5} {'pass':>5} {'95% CI':>13} {'rest':>5} {'gap':>6} {'gap 95% CI':>15} {'q':>7} {'flag':<4} {'mdg':>5}"
    lines = [head, "-" * len(head)]
    notes: dict[tuple[str, str, str], list[str]] = {}  # (source, path, note) -> scorers it applies to
    for r in gaps.iter_rows(named=True):
        if r["n"] is None:
            notes.setdefault((r["source"], r["routing_path"], r["note"] or "no rows"), []).append(r["scorer"])
            continue
        ci = f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
        gap_ci = f"[{_fmt(r['gap_ci_low'], '+.2f')}, {_fmt(r['gap_ci_high'], '+.2f')}]" if r["gap_ci_low"] is not None else ""
        lines.append(
            f"{r['source']:<8} {r['routing_path'][:14]:<14} {r['scorer'][:15]:<15} {r['n']:>5} {_fmt(r['pass_rate']):>5} {ci:>13} "
            f"{_fmt(r['rest_pass_rate']):>5} {_fmt(r['gap'], '+.2f'):>6} {gap_ci:>15} {_fmt(r['q_value'], '.2g'):>7} "
            f"{'FLAG' if r['flagged'] else '':<4} {_fmt(r['min_detectable_gap']):>5}"
        )
    for (src, path, note), scorers in sorted(notes.items()):  # every note is shown, none silently dropped
        which = "" if note == NO_SLICE else f" ({', '.join(sorted(s for s in scorers if s))})"
        lines.append(f"{src:<8} {path[:14]:<14} {note}{which}")
    return "\n".join(lines)


def gap_table(data: DataDir, source: str | None = None, fmt: str = "table") -> str:
    gaps = latest_gaps(data, source)
    if gaps.is_empty():
        return "no gap table yet: run `eval-platform run` first"
    if fmt == "csv":
        return gaps.write_csv()
    if fmt == "json":
        return gaps.write_json()
    flagged = gaps.filter(pl.col("flagged"))
    verdict = (
        "FLAGGED: " + "; ".join(f"{r['routing_path']} on {r['scorer']} ({r['source']}, gap {r['gap']:+.2f})" for r in flagged.iter_rows(named=True))
        if flagged.height else "no path is flagged"
    )
    return (
        f"Gap table, window ending {gaps['window_end'][0]}: each path's pass rate against the rest of the paths on the same scorer.\n"
        f"gap = path - rest; FLAG = BH q < alpha and gap <= -min_gap; mdg = the gap this n could detect with 80% power.\n\n"
        f"{_render(gaps)}\n\n{verdict}"
    )
