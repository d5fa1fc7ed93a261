"""`eval-platform`: the front door for people and scripts; Dagster stays the engine (DESIGN section 8)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _instance():
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _parse_days(spec: str | None, present: list[date]) -> list[date]:
    if not spec:
        return present
    lo, _, hi = spec.partition("..")
    try:
        lo_d = date.fromisoformat(lo) if lo else min(present, default=date.min)
        hi_d = date.fromisoformat(hi) if hi else max(present, default=date.max)
    except ValueError:
        raise SystemExit(f"--days: expected FROM..TO as ISO dates (either side optional), got {spec!r}") from None
    return [d for d in present if lo_d <= d <= hi_d]


# Dagster's console logger at INFO shows our progress lines, not every engine event.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _failed_blocking_checks(result) -> list[str]:
    import dagster as dg

    failed = []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return failed


def cmd_sample(args: argparse.Namespace) -> int:
    from eval_platform.config import DataDir
    from eval_platform.sample.generator import sample_command

    print(sample_command(DataDir.from_env().root, days=args.days, seed=args.seed))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from eval_platform.config import DataDir, load_config
    from eval_platform.definitions import defs
    from eval_platform.ingest.landing import files_by_day
    from eval_platform.summary import run_summary

    data, config = DataDir.from_env(), load_config()
    os.environ.setdefault("EVAL_PLATFORM_PROGRESS_BAR", "1")  # the eval step draws a bar when stderr is a terminal
    by_day = files_by_day(data.landing)
    early = sorted(d for d in by_day if d < config.partition_start)
    if early:
        names = [p.name for d in early for p in by_day[d]]
        print(f"warning: {len(names)} file(s) dated before partition_start {config.partition_start} are not ingested: {names[:10]}")
    days = _parse_days(args.days, sorted(d for d in by_day if d >= config.partition_start))
    if not days:
        print(f"no landing files to ingest under {data.landing} (run `eval-platform sample` for demo data)")
        return 1
    instance = _instance()
    nightly_job = defs.resolve_job_def("nightly_job")
    daily_selection = [dg.AssetKey(k) for k in ("ingest_files", "log_records", "log_quarantine", "online_scores", "path_drift")]
    daily_selection = [k for k in daily_selection if k in defs.resolve_all_asset_keys()]
    failures: list[str] = []
    for number, day in enumerate(days[:-1], start=1):
        print(f"[{number}/{len(days)}] {day}: ingest and online scores", flush=True)
        result = nightly_job.execute_in_process(
            run_config=RUN_CONFIG, partition_key=day.isoformat(), instance=instance, raise_on_error=False,
            asset_selection=daily_selection,
        )
        failures += _failed_blocking_checks(result)
        if not result.success:
            print(f"run for {day} failed; see the Dagster run log (run id {result.run_id})", file=sys.stderr)
            return 2
    latest = days[-1]
    print(f"[{len(days)}/{len(days)}] {latest}: the whole flow (window ending {latest})", flush=True)
    selection = None
    if args.select:
        selection = [dg.AssetKey(k.strip()) for k in args.select.split(",")]
    result = nightly_job.execute_in_process(
        run_config=RUN_CONFIG, partition_key=latest.isoformat(), instance=instance, raise_on_error=False,
        asset_selection=selection,
    )
    failures += _failed_blocking_checks(result)
    print(run_summary(data, latest))
    if failures:
        print(f"blocking check(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 3
    if not result.success:
        print(f"run failed; see the Dagster run log (run id {result.run_id})", file=sys.stderr)
        return 2
    return 0


def cmd_gaps(args: argparse.Namespace) -> int:
    from eval_platform.config import DataDir
    from eval_platform.summary import gap_table

    print(gap_table(DataDir.from_env(), source=args.source, fmt=args.format))
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from eval_platform.config import DataDir
    from eval_platform.corpus.lineage import format_chain, lineage_chain
    from eval_platform.warehouse import connect

    data = DataDir.from_env()
    with connect(data.warehouse, read_only=True) as conn:
        chain = lineage_chain(conn, args.id, data.landing)
    if not chain:
        print(f"no corpus item, response or record with id {args.id!r}", file=sys.stderr)
        return 1
    print(format_chain(chain, raw=args.raw))
    return 0


def cmd_check_logs(args: argparse.Namespace) -> int:
    from eval_platform.config import DataDir, load_config
    from eval_platform.ingest.check import check_file

    config, landing = load_config(), DataDir.from_env().landing
    if args.format:
        config = config.model_copy(update={"ingest": config.ingest.model_copy(update={"format": args.format,
                                                                                      "format_by_glob": {}})})
    ok = True
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            ok = False
            continue
        check = check_file(path, config, landing)
        print(check.report)
        ok = ok and check.ok
    return 0 if ok else 1


def cmd_publish(args: argparse.Namespace) -> int:
    from eval_platform.config import DataDir, load_config
    from eval_platform.publish.snapshot import LATEST, publish_snapshot

    data = DataDir.from_env()
    path = publish_snapshot(data.warehouse, data.snapshots, keep=load_config().publish.keep_snapshots)
    print(f"published {path} -> {data.snapshots / LATEST}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eval-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sample", help="write the deterministic sample logs into landing/")
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("run", help="materialize every partition in landing/, then the window assets for the latest day")
    p.add_argument("--select", help="comma-separated asset keys for the final (latest-day) run")
    p.add_argument("--days", help="FROM..TO (ISO dates, either side optional)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("gaps", help="print the latest gap table")
    p.add_argument("--source", choices=["offline", "online"], default=None)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_gaps)
    p = sub.add_parser("lineage", help="the chain from a failing response / record / corpus item to file and line")
    p.add_argument("id")
    p.add_argument("--raw", action="store_true",
                   help="print landing lines as they are in the file, PII included (default: redacted)")
    p.set_defaults(func=cmd_lineage)
    p = sub.add_parser("check-logs", help="what ingestion would make of log files (nothing is written); "
                       "exit 1 if a file has no records, an unknown format or too many quarantined lines")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", choices=["auto", "native", "litellm", "otel"], default=None,
                   help="read every file as this format (default: the config's ingest.format rules)")
    p.set_defaults(func=cmd_check_logs)
    p = sub.add_parser("publish", help="publish the analyst snapshot (snapshots/latest.duckdb)")
    p.set_defaults(func=cmd_publish)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("gaps", "lineage", "publish"):
        from eval_platform.config import DataDir

        warehouse = DataDir.from_env().warehouse
        if not warehouse.exists():
            print(f"no warehouse at {warehouse}: run `eval-platform run` first (EVAL_PLATFORM_DATA_DIR)", file=sys.stderr)
            return 1
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
