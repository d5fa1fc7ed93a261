"""Benchmark: peak memory of one day's `ingest_logs` run, rows held in memory vs spilled to Parquet.

    python eval_platform_tests/benchmarks/bench_spill.py [--lines 1000000] [--files 4] [--dir .bench]

The 1M-line native file of `bench_ingest.py` (generated there if missing) is split into `--files` landing
files of one day. The `ingest_logs` asset is materialized in-process on that day twice, each in its own
subprocess and fresh data directory: (a) with `ingest.spill_bytes` large enough to hold the day (every
file's rows held until the partition's transaction, as before spilling existed), (b) with `spill_bytes: 0`
(each file's rows spilled to Parquet before the next file is read), (c) as (b) with `warehouse.memory_limit:
1GB` (DuckDB's checkpoint after the write otherwise takes about as much memory as the day's new rows).
Prints wall seconds, peak RSS and the ratios to (a); the rows written must be the same.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-11-01"  # bench_ingest's lines are all on this day


def split(source: Path, landing: Path, files: int) -> None:
    lines = source.read_bytes().splitlines(keepends=True)
    per = -(-len(lines) // files)
    (landing / "native").mkdir(parents=True, exist_ok=True)
    for part in range(files):
        (landing / "native" / f"{DAY}-part{part + 1}.jsonl").write_bytes(b"".join(lines[part * per : (part + 1) * per]))


def child(data_dir: str, spill_bytes: int, memory_limit: str) -> None:
    sys.path.insert(0, str(ROOT))
    import dagster as dg
    import duckdb

    from eval_platform.config import DEMO_CONFIG
    from eval_platform.ingest.assets import ingest_logs
    from eval_platform.resources import Platform

    cfg = yaml.safe_load(DEMO_CONFIG.read_text())
    cfg.setdefault("ingest", {})["spill_bytes"] = spill_bytes
    cfg["warehouse"] = {"memory_limit": memory_limit or None}
    config = Path(data_dir) / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    platform = Platform(data_dir=data_dir, config_path=str(config))
    start = time.perf_counter()
    result = dg.materialize([ingest_logs], partition_key=DAY, resources={"platform": platform},
                            instance=dg.DagsterInstance.ephemeral())
    seconds = time.perf_counter() - start
    assert result.success
    with duckdb.connect(str(platform.data.warehouse), read_only=True) as conn:
        rows = conn.execute("SELECT (SELECT count(*) FROM log_records) + (SELECT count(*) FROM log_quarantine)").fetchall()[0][0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "rows": rows}))


def measure(landing: Path, spill_bytes: int, memory_limit: str = "") -> dict:
    with tempfile.TemporaryDirectory(dir=landing.parent.parent) as tmp:
        (Path(tmp) / "landing").symlink_to(landing)
        out = subprocess.run([sys.executable, __file__, "--child", tmp, str(spill_bytes), memory_limit],
                             check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return
    source = args.dir / f"native_{args.lines}.jsonl"
    if not source.exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_ingest.py")), "--lines", str(args.lines),
                        "--dir", str(args.dir), "--generate-only"], check=True)
    landing = args.dir / f"spill_{args.lines}_{args.files}" / "landing"
    if not landing.exists():
        split(source, landing, args.files)
    size = sum(p.stat().st_size for p in landing.rglob("*.jsonl"))
    print(f"day {DAY}: {args.files} native files, {args.lines:,} lines, {size / 2**20:,.0f} MiB")
    held, spilled, bounded = measure(landing, 1 << 40), measure(landing, 0), measure(landing, 0, "1GB")
    print(f"{'measurement':<60} {'wall s':>8} {'peak RSS':>10} {'rows':>10}")
    for name, m in (("(a) rows held until the transaction", held),
                    ("(b) rows spilled to Parquet (spill_bytes 0)", spilled),
                    ("(c) spilled, and warehouse.memory_limit 1GB", bounded)):
        print(f"{name:<60} {m['seconds']:>8.2f} {m['peak_bytes'] / 2**30:>8.2f} GiB {m['rows']:>10,}")
    for name, m in (("b/a", spilled), ("c/a", bounded)):
        print(f"ratio {name}: wall {m['seconds'] / held['seconds']:.2f}x, peak memory "
              f"{m['peak_bytes'] / held['peak_bytes']:.2f}x; same rows: {m['rows'] == held['rows']}")


if __name__ == "__main__":
    main()
