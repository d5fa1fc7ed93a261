"""Benchmark: the online_scores asset against a bare DuckDB query applying the same regular expressions.

    python eval_platform_tests/benchmarks/bench_scoring.py [--records 1000000] [--repeats 1]

Builds a pool of demo-world records (sample generator sessions over all 14 days, so citations, invalid
citations, refusals and tone violations all occur), replicates it with DuckDB to N log_records on one
day, then runs each measurement in its own subprocess (so peak RSS is its own):
  (a) baseline: one DuckDB query over that day applying the scorers' and labels' regexes (citation URL,
      id, reference and sources-list extraction; direct / deflection / lecturing refusal patterns; banned
      phrases, self-references, blame, "!!!" and the capitals ratio; the prohibited-prompt rule) to every
      row and aggregating per routing path;
  (b) the online_scores asset itself (Dagster direct invocation): read the day, label_items, score_frame
      with the demo config's scorers, write the online_scores rows.
Prints wall time (best of --repeats, imports excluded), peak RSS and the ratio b/a (target: <= 2x).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2026, 11, 11)
POOL_SESSIONS = 1500


def build_pool():
    """Demo-world records (one row per turn) as a polars frame, from the sample generator's sessions."""
    import polars as pl

    from eval_platform.sample import generator

    rng = random.Random(42)
    rows = []
    for i in range(POOL_SESSIONS):
        day_number = 1 + i % 14
        for logged in generator._session(rng, DAY, day_number, borderline=i % 200 == 0):
            r = logged.record
            rows.append({
                "routing_path": r["routing_path"], "served_model": r["served_model"], "route_reason": r["route_reason"],
                "task_type": r["task_type"], "messages": json.dumps(r["messages"]),
                "prompt": next(m["content"] for m in reversed(r["messages"]) if m["role"] == "user"),
                "response": r["response"], "status": r["status"], "error": r["error"], "latency_ms": r["latency_ms"],
                "cost_usd": r["cost_usd"], "retrieved_sources": r["retrieved_sources"], "tags": r["tags"],
            })
    return pl.DataFrame(rows, infer_schema_length=None).with_row_index("pool_idx")


FILL_SQL = """
INSERT INTO log_records BY NAME
SELECT 'req_' || lpad(i::VARCHAR, 9, '0') AS record_id, ?::DATE AS day,
       ?::TIMESTAMP + to_milliseconds((i * 86) % 86400000) AS ts, 's_' || (i // 3) AS session_id, (1 + i % 3)::INTEGER AS turn,
       p.routing_path, p.served_model, p.route_reason, p.task_type, p.messages::JSON AS messages, p.prompt, p.response,
       p.status, p.error, p.latency_ms, p.cost_usd, 100 AS input_tokens, 50 AS output_tokens, NULL AS user_outcome,
       p.tags, p.retrieved_sources, 'bench.jsonl' AS source_file, i AS source_line, 'native' AS source_format
FROM range(?) t(i) JOIN pool p ON p.pool_idx = hash(i) % ?
"""


def generate(db: Path, records: int) -> int:
    import duckdb

    from eval_platform.contract import ensure_schema

    pool = build_pool()
    conn = duckdb.connect(str(db))
    try:
        ensure_schema(conn)
        conn.register("pool", pool)
        conn.execute(FILL_SQL, [DAY, DAY, records, pool.height])
        return pool.height
    finally:
        conn.close()


def baseline_sql_and_params() -> tuple[str, list[object]]:
    """One query applying the scorers' and labels' regexes to every row of the day, aggregated per path."""
    from eval_platform.config import load_config
    from eval_platform.corpus.labels import prohibited_regex
    from eval_platform.scores import citation, refusal, tone

    cfg = load_config(None)
    s = cfg.scorers
    ids = citation._id_pattern(s.valid_citation)
    phrase = lambda ps: "(?i)" + "|".join(tone.phrase_regex(p)[4:] for p in ps)  # noqa: E731  drop each "(?i)"
    params = {
        "url": citation.URL, "ids": ids, "code": citation.CODE, "ref": citation.REFERENCE,
        "entry": citation._entry_pattern(ids), "direct": refusal._any(refusal.DIRECT_PATTERNS),
        "deflect": refusal._any(refusal.DEFLECTION_PATTERNS), "answer": refusal.ANSWER_SIGNS,
        "pair": refusal.LECTURE_PAIR, "harm": refusal.LECTURE_HARM, "frame": refusal.LECTURE_FRAME,
        "banned": phrase(s.tone_policy.banned_phrases), "selfref": phrase(s.tone_policy.forbidden_self_references),
        "blame": "(?i)" + "|".join(f"(?:{p})" for p in s.tone_policy.blame_patterns),
        "prohibited": prohibited_regex(cfg.corpus.labels), "day": DAY,
    }
    sql = """
    WITH r AS (
        SELECT routing_path, task_type, prompt, coalesce(response, '') AS response,
               -- refusal.normalise: curly quotes to ', markdown emphasis dropped (translate is cheaper than a regex)
               regexp_replace(translate(lower(coalesce(response, '')), '\u2018\u2019\u02bc`\u00b4*_', ''''''''''''),
                   '[ \t]{2,}|\t', ' ', 'g') AS t,
               regexp_replace(coalesce(response, ''), $code, ' ', 'g') AS prose
        FROM log_records WHERE day = $day AND status = 'ok'
    ), m AS (
        SELECT routing_path,
            len(regexp_extract_all(response, $url)) AS urls,
            len(regexp_extract_all(regexp_replace(response, $url, ' ', 'g'), $ids)) AS ids,
            len(list_distinct(regexp_extract_all(prose, $ref))) AS refs,
            len(regexp_extract_all(prose, $entry)) AS entries,
            regexp_matches(t, $direct) OR regexp_matches(t, $deflect)
              OR (NOT regexp_matches(t, $answer) AND (regexp_matches(t, $pair)
                  OR (regexp_matches(t, $harm) AND regexp_matches(t, $frame)))) AS refused,
            regexp_matches(response, $banned) OR regexp_matches(response, $selfref) OR regexp_matches(response, $blame)
              OR regexp_matches(prose, '!{3,}') AS tone_hit,
            list_aggregate(regexp_extract_all(prose, '\\p{L}{4,}'), 'string_agg', '') AS letters,
            task_type = 'prohibited' OR regexp_matches(prompt, $prohibited) AS should_refuse
        FROM r
    )
    SELECT routing_path, count(*) AS n, sum(urls) AS urls, sum(ids) AS ids, sum(refs) AS refs, sum(entries) AS entries,
           count_if(refused) AS refused, count_if(should_refuse) AS should_refuse,
           count_if(tone_hit OR (length(letters) >= 20
               AND len(regexp_extract_all(letters, '\\p{Lu}')) / length(letters) > 0.6)) AS tone_fail
    FROM m GROUP BY routing_path ORDER BY routing_path
    """
    # RE2 (DuckDB) spells a code point \x{2022} where the Rust regex crate (polars) also takes \u2022
    return sql, {k: re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", v) if isinstance(v, str) else v for k, v in params.items()}


def measure_baseline(db: Path) -> dict:
    import duckdb

    sql, params = baseline_sql_and_params()
    conn = duckdb.connect(str(db), read_only=True)
    try:
        start = time.perf_counter()
        rows = conn.execute(sql, params).fetchall()
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return {"seconds": elapsed, "summary": [list(map(str, r)) for r in rows]}


def measure_asset(data_dir: Path) -> dict:
    import dagster as dg

    from eval_platform.resources import Platform
    from eval_platform.scores import registry
    from eval_platform.scores.assets import online_scores

    registry.registered()  # import the scorer modules before the clock starts
    platform = Platform(data_dir=str(data_dir))
    _ = platform.config
    start = time.perf_counter()
    result = online_scores(context=dg.build_asset_context(partition_key=DAY.isoformat()), platform=platform)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "records_scored": result.metadata["records_scored"]}


def child(kind: str, data_dir: Path) -> None:
    db = data_dir / "warehouse" / "eval.duckdb"
    out = measure_baseline(db) if kind == "baseline" else measure_asset(data_dir)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_child(kind: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "EVAL_PLATFORM_CONFIG"} | {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} measurement failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", choices=["baseline", "asset"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data_dir)
        return
    with tempfile.TemporaryDirectory(prefix="bench_scoring_") as tmp:
        data_dir = Path(tmp)
        (data_dir / "warehouse").mkdir(mode=0o700)
        start = time.perf_counter()
        pool = generate(data_dir / "warehouse" / "eval.duckdb", args.records)
        print(f"generated {args.records:,} log_records from a pool of {pool:,} demo records in {time.perf_counter() - start:.1f} s")
        load_before = os.getloadavg()[0]
        runs: dict[str, list[dict]] = {"baseline": [], "asset": []}
        for _ in range(args.repeats):  # interleaved, so a change in machine load hits both alike
            for kind in runs:
                runs[kind].append(run_child(kind, data_dir))
        results = {kind: min(rs, key=lambda r: r["seconds"]) | {"peak_rss_mb": max(r["peak_rss_mb"] for r in rs)}
                   for kind, rs in runs.items()}
        base = results["baseline"]["seconds"]
        print(f"load average (1 min) before the measurements {load_before:.2f}, after {os.getloadavg()[0]:.2f}; "
              f"cpus {os.cpu_count()}; best of {args.repeats}")
        print(f"{'measurement':<58} {'wall s':>8} {'peak RSS MB':>12} {'ratio':>7}")
        labels = {"baseline": "(a) bare DuckDB query, same regexes, aggregated",
                  "asset": "(b) online_scores asset: read, label, score, write"}
        for kind, r in results.items():
            print(f"{labels[kind]:<58} {r['seconds']:>8.2f} {r['peak_rss_mb']:>12.0f} {r['seconds'] / base:>6.2f}x")
        print(f"records scored by (b): {results['asset']['records_scored']:,}; target (b) <= 2.00x (a)")
        for row in results["baseline"]["summary"]:
            print("  baseline", " ".join(row))


if __name__ == "__main__":
    main()
