"""Benchmark: native-format ingestion against a bare DuckDB `read_json` load of the same file.

    python eval_platform_tests/benchmarks/bench_ingest.py [--lines 1000000] [--dir .bench]

Generates N realistic native lines (~1.5 KB each: multi-turn messages, some PII, ~0.1% malformed) once
under `--dir` (reused when present), then measures, each in its own subprocess so peak RSS is separate:
  (a) baseline: `CREATE TABLE t AS SELECT ... FROM read_json(file, columns={...})` into a file database;
  (b) ours: `ingest_file` (read, validate, redact) + INSERT BY NAME of records and quarantine into a file database.
Prints wall seconds, peak RSS and the ratio b / a (target: b <= 2x a, peak < 4 GiB).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
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
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]


def run_ours(file: Path, db: Path) -> int:
    sys.path.insert(0, str(ROOT))
    import duckdb

    from eval_platform.config import load_config
    from eval_platform.contract import ensure_schema
    from eval_platform.ingest.file_ingest import ingest_file

    start = time.perf_counter()
    result = ingest_file(file, file.parent, load_config())
    print(f"  ingest_file {time.perf_counter() - start:.2f} s", file=sys.stderr)
    start = time.perf_counter()
    with duckdb.connect(str(db)) as conn:
        ensure_schema(conn)
        conn.execute("BEGIN TRANSACTION")
        for table, frame in (("log_records", result.records), ("log_quarantine", result.quarantine)):
            for chunk in frame.iter_slices(200_000):
                conn.register("incoming", _arrow(chunk))
                conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                conn.unregister("incoming")
        conn.execute("COMMIT")
    print(f"  insert {time.perf_counter() - start:.2f} s", file=sys.stderr)
    return result.stats["records"] + result.stats["quarantined"]


def _arrow(frame):
    """Zero-copy Arrow (string_view) with `messages` tagged as JSON, so DuckDB neither copies nor re-validates it."""
    import polars as pl
    import pyarrow as pa

    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    if "messages" in table.column_names:
        i = table.schema.get_field_index("messages")
        json_field = pa.field("messages", table.schema.field(i).type, metadata={b"ARROW:extension:name": b"arrow.json"})
        table = table.set_column(i, json_field, table.column(i))
    return table


def _child(which: str, file: str, db: str) -> None:
    start = time.perf_counter()
    rows = (run_baseline if which == "baseline" else run_ours)(Path(file), Path(db))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "rows": rows}))


def measure(which: str, file: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / f"{which}.duckdb"
        out = subprocess.run([sys.executable, __file__, "--child", which, str(file), str(db)],
                             check=True, capture_output=True, text=True)
        if out.stderr.strip():
            print(out.stderr.rstrip())
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    file = args.dir / f"native_{args.lines}.jsonl"
    if not file.exists():
        start = time.perf_counter()
        generate(file, args.lines)
        print(f"generated {file} in {time.perf_counter() - start:.1f} s")
    size = file.stat().st_size
    print(f"file: {file.name}, {args.lines:,} lines, {size / 2**20:,.0f} MiB ({size / args.lines:,.0f} bytes/line)")
    base, ours = measure("baseline", file), measure("ours", file)
    print(f"{'measurement':<44} {'wall s':>8} {'peak RSS':>10} {'rows':>10}")
    for name, m in (("(a) DuckDB read_json -> table (baseline)", base), ("(b) ingest_file + INSERT BY NAME", ours)):
        print(f"{name:<44} {m['seconds']:>8.2f} {m['peak_bytes'] / 2**30:>8.2f} GiB {m['rows']:>10,}")
    ratio = ours["seconds"] / base["seconds"]
    print(f"ratio b/a: {ratio:.2f}x (target <= 2x, aim 1.25x); peak (b) {'<' if ours['peak_bytes'] < 4 * 2**30 else '>='} 4 GiB")


if __name__ == "__main__":
    main()
