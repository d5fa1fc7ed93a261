"""Benchmark: native-format ingestion against a bare DuckDB `read_json` load of the same file.

    python eval_platform_tests/benchmarks/bench_ingest.py [--lines 1000000] [--dir .bench]

Generates N realistic native lines (~1.5 KB each: multi-turn messages, some PII, ~0.1% malformed) once
under `--dir` (reused when present), then measures, each in its own subprocess so peak RSS is separate:
  (a) baseline: `CREATE TABLE t AS SELECT ... FROM read_json(file, columns={...})` into a file database;
  (b) ours: what the `ingest_logs` asset does for one new file: `ingest_file` (read and hash in one pass,
      validate, redact, lineage, quarantine), pandera `validate_records`, and the asset's own write transaction
      (`write_partition`: the file's rows into log_records / log_quarantine, repeated record ids dropped,
      ingest_files) into a file database created by `ensure_schema`. The checkpoint when the connection
      closes is part of (b), as it is of (a) and (c).
      (A file already in ingest_files is hashed first for change detection; `--known` measures that path.)
  (c) a floor, for reference: DuckDB's own parallel `read_json` feeding the native adapter's field checks,
      inserted straight into `log_records` in one statement: the validation and the write that (b) must do,
      with none of its other duties (no line numbers for lineage, no redaction, no hash, no quarantine, no
      pandera). No ingestion that validates every field can be faster than (c) on the same machine.
  (d) the CPU seconds of three duties (c) leaves out and every ingestion must do: the file's sha256 (idempotent
      re-ingestion), the PII scan of every line and the redaction of the lines it flags. Added to (c), spread
      perfectly over all cores, they give a lower bound for (b) on this machine: c + d / cores.
Prints wall and CPU seconds, peak RSS and the ratios b / a (target: b <= 2x a, peak < 4 GiB), c / a and the bound / a.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["primary", "fallback", "code", "reasoning", "experimental"]
MODELS = {"primary": "demo/primary-large", "fallback": "demo/fallback-small", "code": "demo/coder",
          "reasoning": "demo/reasoner", "experimental": "demo/experimental"}
TASKS = ["qa_with_sources", "code", "reasoning", "prohibited", "small_talk"]
WORDS = ("the refund policy for annual plans says customers may cancel within thirty days and receive a prorated "
         "credit to the original payment method while invoices issued before the change remain valid see the "
         "billing page for details about taxes currency conversion and enterprise agreements").split()
PII = ["reach me at jane.doe@example.com", "my phone is +1 (555) 123-4567", "card 4111 1111 1111 1111",
       "key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx123456", "token Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
       "server 10.12.0.7 is down", "AKIAIOSFODNN7EXAMPLE leaked"]
BAD = ['{"request_id": "req_trunc", "ts": "2026-11-2', '{"turn": "two"}', "", "[1, 2]", "not json at all"]
DAY0 = 1793491200  # 2026-11-01T00:00:00Z

# the explicit schema the baseline reads (what a hand-written DuckDB load would declare)
BASELINE_COLUMNS = {
    "request_id": "VARCHAR", "ts": "TIMESTAMPTZ", "session_id": "VARCHAR", "turn": "INTEGER",
    "routing_path": "VARCHAR", "served_model": "VARCHAR", "route_reason": "VARCHAR", "task_type": "VARCHAR",
    "messages": "JSON", "response": "VARCHAR", "status": "VARCHAR", "error": "VARCHAR", "latency_ms": "DOUBLE",
    "cost_usd": "DOUBLE", "usage": "STRUCT(input_tokens BIGINT, output_tokens BIGINT)", "user_outcome": "VARCHAR",
    "tags": "VARCHAR[]", "retrieved_sources": "VARCHAR[]",
}


def _text(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.03:
        words.insert(rng.randrange(len(words)), rng.choice(PII))
    return " ".join(words)


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """Write `lines` native-format lines (about 1.5 KB each) with ~0.1% malformed ones."""
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for i in range(lines):
            if rng.random() < 0.001:
                out.write(rng.choice(BAD) + "\n")
                continue
            route = rng.choices(PATHS, weights=[60, 15, 12, 12, 1])[0]
            task = rng.choice(TASKS)
            sources = [f"https://docs.acme.example/billing/{rng.randrange(100)}", f"DOC-{rng.randrange(1000, 9999)}"]
            messages = [{"role": "system", "content": "Retrieved documents:\n[1] " + sources[0] + "\n[2] " + sources[1]}]
            for _ in range(rng.randint(1, 2)):
                messages += [{"role": "user", "content": _text(rng, 28)}, {"role": "assistant", "content": _text(rng, 28)}]
            messages.append({"role": "user", "content": _text(rng, 20)})
            record = {
                "request_id": f"req_{i:010d}", "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(DAY0 + i % 86400)) + ".123Z",
                "session_id": f"s_{i // 3:08d}", "turn": i % 3 + 1, "routing_path": route, "served_model": MODELS[route],
                "route_reason": "default", "task_type": task, "messages": messages, "response": _text(rng, 32),
                "status": "ok", "error": None, "latency_ms": round(rng.uniform(100, 3000), 1),
                "cost_usd": round(rng.uniform(0, 0.01), 6), "usage": {"input_tokens": rng.randint(50, 2000), "output_tokens": rng.randint(10, 600)},
                "user_outcome": rng.choice([None, None, "resolved", "abandoned", "escalated"]), "tags": ["bench"],
                "retrieved_sources": sources,
            }
            out.write(json.dumps(record) + "\n")
    tmp.rename(path)


def run_baseline(file: Path, db: Path) -> int:
    import duckdb

    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in BASELINE_COLUMNS.items()) + "}"
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            f"CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited', columns={columns}, ignore_errors=true)",
            [str(file)],
        )
        return conn.execute("SELECT count(*) FROM t").fetchall()[0][0]


def run_floor(file: Path, db: Path) -> int:
    """(c): read_json -> the native adapter's checks -> INSERT INTO log_records, in one DuckDB statement."""
    sys.path.insert(0, str(ROOT))
    import duckdb

    from eval_platform.contract import ensure_schema
    from eval_platform.ingest.formats import native

    top = [name for name in native._FIELDS if "." not in name]
    columns = "{" + ", ".join(f"{name}: 'JSON'" for name in top) + "}"
    # the adapter's query from its `checked` CTE on, fed by read_json instead of parsed lines
    checks = native._QUERY[native._QUERY.index("checked AS ("):]
    fields = f"""WITH fields AS (
        SELECT 0::BIGINT AS source_line, NULL::VARCHAR AS raw, NULL::VARCHAR AS line_problem,
            {", ".join(f"{name} AS j_{name}" for name in top)},
            json_extract(usage, '$.input_tokens') AS j_usage_input_tokens,
            json_extract(usage, '$.output_tokens') AS j_usage_output_tokens
        FROM read_json($path, format = 'newline_delimited', records = true, columns = {columns}, ignore_errors = true)
    ),
    """
    with duckdb.connect(str(db)) as conn:
        ensure_schema(conn)
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(native._MACROS)
        conn.execute(
            "INSERT INTO log_records BY NAME SELECT * EXCLUDE (raw, line_error), 'bench' AS source_file, "
            f"'native' AS source_format FROM ({fields + checks}) WHERE line_error IS NULL",
            {"path": str(file), "content_hash": "bench"},
        )
        return conn.execute("SELECT count(*) FROM log_records").fetchall()[0][0]


def run_ours(file: Path, db: Path, known: bool = False) -> int:
    """What the `ingest_logs` asset does for one file: (hash if known), ingest, pandera, one transactional replace."""
    sys.path.insert(0, str(ROOT))
    import duckdb
    import polars as pl

    from eval_platform.config import load_config
    from eval_platform.contract import ensure_schema
    from eval_platform.ingest.file_ingest import file_sha256, ingest_file
    from eval_platform.ingest.schemas import validate_records
    from eval_platform.ingest.spill import PartitionRows
    from eval_platform.ingest.write import write_partition

    stages, clock = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name], clock = now - clock, now

    content_hash = None
    if known:  # change detection of a file ingest_files already lists
        content_hash = file_sha256(file)
        lap("sha256")
    result = ingest_file(file, file.parent, load_config(), content_hash=content_hash)
    lap("ingest_file")
    good, rejected = validate_records(result.records)
    lap("validate_records")
    stats = dict(result.stats, records=result.stats["records"] - rejected.height,
                 quarantined=result.stats["quarantined"] + rejected.height)
    rows = PartitionRows(db.parent / "spill", budget_bytes=1 << 62)  # one file: held in memory, as the asset does
    rows.add("log_records", good.with_columns(ingest_run_id=pl.lit("bench")))
    rows.add("log_quarantine", pl.concat([result.quarantine, rejected], how="diagonal_relaxed")
             .with_columns(ingest_run_id=pl.lit("bench")))
    with duckdb.connect(str(db)) as conn:
        ensure_schema(conn)
        # the asset's own transaction: replace the file's rows, drop repeated record ids, write ingest_files
        write_partition(conn, date(2026, 11, 1), [], [stats], rows, "bench", datetime.now())
    lap("write_partition (1 transaction), checkpoint on close")  # the with block has closed the connection
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items()), file=sys.stderr)
    return stats["records"] + stats["quarantined"]


def measure_duties(file: Path) -> dict:
    """(d): process CPU seconds of the sha256, the PII scan and the redaction, each timed alone.

    The lines and the parsed records they work on are produced untimed, block by block, with the code the
    asset runs (`iter_line_batches`, the native adapter), so each figure is that duty and nothing else.
    """
    sys.path.insert(0, str(ROOT))
    from eval_platform.config import load_config
    from eval_platform.ingest.file_ingest import _map_batch, _pii_lines, _redact_batch, file_sha256
    from eval_platform.ingest.formats import native
    from eval_platform.ingest.formats.base import AdapterContext
    from eval_platform.ingest.lines import iter_line_batches

    config = load_config()
    ctx = AdapterContext(source_file=file.name, content_hash="bench", outcome_rules=config.outcome_rules)
    cpu = {"sha256": 0.0, "pii_scan": 0.0, "redaction": 0.0}
    hinted_lines = 0

    def timed(name: str, work, *args):
        before = time.process_time()  # every thread of the process (polars runs its regexes on several)
        result = work(*args)
        cpu[name] += time.process_time() - before
        return result

    timed("sha256", file_sha256, file)
    for batch in iter_line_batches(file, config.ingest.max_line_bytes):
        hinted = timed("pii_scan", _pii_lines, batch)
        hinted_lines += hinted.len()
        parsed = _map_batch(batch, native, ctx, None)
        timed("redaction", _redact_batch, parsed, hinted)
    return {"cpu": cpu, "hinted_lines": hinted_lines}


def _child(which: str, file: str, db: str, known: bool = False) -> None:
    if which == "ours":  # a running asset has its modules loaded: import time is not ingestion time
        sys.path.insert(0, str(ROOT))
        import eval_platform.ingest.file_ingest  # noqa: F401
        import eval_platform.ingest.schemas  # noqa: F401
        import eval_platform.warehouse  # noqa: F401
    if which == "duties":
        print(json.dumps(measure_duties(Path(file))))
        return
    start, cpu_before = time.perf_counter(), time.process_time()
    runners = {"baseline": run_baseline, "floor": run_floor, "ours": lambda f, d: run_ours(f, d, known)}
    rows = runners[which](Path(file), Path(db))
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime - cpu_before, "peak_bytes": peak,
                      "rows": rows}))


def measure(which: str, file: Path, known: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / f"{which}.duckdb"
        out = subprocess.run([sys.executable, __file__, "--child", which, str(file), str(db), *(["--known"] if known else [])],
                             check=True, capture_output=True, text=True)
        if out.stderr.strip():
            print(out.stderr.rstrip())
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--known", action="store_true", help="the file is already in ingest_files: hash it first")
    parser.add_argument("--generate-only", action="store_true", help="write the file (if missing) and stop")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child, known=args.known)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    file = args.dir / f"native_{args.lines}.jsonl"
    if not file.exists():
        start = time.perf_counter()
        generate(file, args.lines)
        print(f"generated {file} in {time.perf_counter() - start:.1f} s")
    if args.generate_only:
        return
    size = file.stat().st_size
    print(f"file: {file.name}, {args.lines:,} lines, {size / 2**20:,.0f} MiB ({size / args.lines:,.0f} bytes/line)")
    base, ours, floor = measure("baseline", file), measure("ours", file, args.known), measure("floor", file)
    duties = measure("duties", file)
    print(f"{'measurement':<52} {'wall s':>8} {'CPU s':>8} {'peak RSS':>10} {'rows':>10}")
    for name, m in (("(a) DuckDB read_json -> table (baseline)", base), ("(b) eval_platform ingestion (asset path)", ours),
                    ("(c) floor: read_json + field checks -> log_records", floor)):
        print(f"{name:<52} {m['seconds']:>8.2f} {m['cpu']:>8.2f} {m['peak_bytes'] / 2**30:>8.2f} GiB {m['rows']:>10,}")
    extra = sum(duties["cpu"].values())
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in duties["cpu"].items())
    print(f"{'(d) duties (c) leaves out, CPU s':<52} {'':>8} {extra:>8.2f}   ({parts}; {duties['hinted_lines']:,} lines flagged by the PII scan)")
    cores = os.cpu_count() or 1
    bound = floor["seconds"] + extra / cores
    ratio = ours["seconds"] / base["seconds"]
    print(f"ratio b/a: {ratio:.2f}x (target <= 2x, aim 1.25x); peak (b) {'<' if ours['peak_bytes'] < 4 * 2**30 else '>='} 4 GiB")
    print(f"ratio c/a: {floor['seconds'] / base['seconds']:.2f}x (validation + write alone); b/c: {ours['seconds'] / floor['seconds']:.2f}x")
    print(f"lower bound for (b): c + d / {cores} cores = {bound:.2f} s = {bound / base['seconds']:.2f}x a "
          f"(without line numbers, quarantine or pandera); b / bound: {ours['seconds'] / bound:.2f}x")


if __name__ == "__main__":
    main()
