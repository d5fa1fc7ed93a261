"""Benchmark: the model-call engine against a bare `litellm.acompletion` loop, on a local fake server.

    python eval_platform_tests/benchmarks/bench_engine.py [--calls 2000] [--slow-calls 1000]

The fake OpenAI-compatible server runs in its own process (its CPU is not charged to us).
  (1) `--calls` calls at concurrency 50, 100 ms server latency: the engine (fresh store, limits,
      retries, cost, persistence) vs a bare `acompletion` loop under `asyncio.Semaphore(50)`, same run.
      Target: engine wall <= 1.2x bare. Also CPU seconds per call (process time) for each.
  (2) `--slow-calls` calls at concurrency 100, 1 s latency: engine wall vs the ideal
      calls / concurrency * latency. Target <= 1.1x. The bare loop is shown for reference.
Each measurement is the best of `--repeat` alternating runs (the machine's load drifts).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from eval_platform.config import ModelLimits  # noqa: E402
from eval_platform.evals.engine import ModelRequest, run_requests  # noqa: E402
from eval_platform.evals.response_store import ResponseStore  # noqa: E402

SERVER = ROOT / "eval_platform_tests" / "fake_openai_server.py"
MODEL = "openai/fake"


@contextmanager
def fake_server(latency_s: float):
    """The fake server in a child process; yields its base URL."""
    child = subprocess.Popen(
        [sys.executable, str(SERVER), "--latency", str(latency_s)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        child.terminate()
        child.wait(timeout=10)


def messages(tag: str, i: int) -> list[dict]:
    return [{"role": "user", "content": f"{tag} question {i}: what is the refund window for annual plans?"}]


async def bare_loop(api_base: str, calls: int, concurrency: int, tag: str) -> tuple[float, float, int]:
    """The baseline: acompletion under a semaphore, nothing else. Returns (wall, cpu, failures)."""
    import litellm

    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> bool:
        async with slots:
            try:
                await litellm.acompletion(
                    model=MODEL,
                    messages=messages(tag, i),
                    api_base=api_base,
                    api_key="k",
                    timeout=60,
                    num_retries=0,
                    max_retries=0,
                )
                return True
            except Exception:
                return False

    wall, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(one(i) for i in range(calls)))
    return time.perf_counter() - wall, time.process_time() - cpu, results.count(False)


async def engine_run(
    api_base: str, calls: int, concurrency: int, tag: str, store_dir: Path
) -> tuple[float, float, int]:
    """The engine with a fresh store. Returns (wall, cpu, non-ok rows)."""
    limits = ModelLimits(api_base=api_base, concurrency=concurrency, timeout_s=60)
    store = ResponseStore(store_dir / f"{tag}.duckdb")
    requests = [ModelRequest(MODEL, messages(tag, i), {}) for i in range(calls)]
    wall, cpu = time.perf_counter(), time.process_time()
    rows = await run_requests(requests, store=store, limits_for=lambda m: limits, api_key_for=lambda m: "k")
    elapsed, spent_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert store.responses().height == calls - rows.filter(rows["status"] != "ok").height
    return elapsed, spent_cpu, rows.filter(rows["status"] != "ok").height


def best(runs: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    """The fastest run (wall), with the failures summed over all runs."""
    fastest = min(runs)
    return fastest[0], fastest[1], sum(run[2] for run in runs)


async def main(args: argparse.Namespace) -> None:
    import litellm

    litellm.suppress_debug_info = True
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        store_dir = Path(tmp)
        with fake_server(0.1) as api_base:
            await bare_loop(api_base, 100, 50, "warmup")  # import, client pools, cost-map warm
            bare_runs, engine_runs = [], []
            for r in range(args.repeat):  # alternate, so drift in machine load hits both alike
                bare_runs.append(await bare_loop(api_base, args.calls, 50, f"bare{r}"))
                engine_runs.append(await engine_run(api_base, args.calls, 50, f"engine{r}", store_dir))
            bare, engine = best(bare_runs), best(engine_runs)
            table.append(("(1) bare acompletion loop, c=50, 100 ms", args.calls, *bare, None))
            table.append(("(1) engine, c=50, 100 ms", args.calls, *engine, engine[0] / bare[0]))
        if args.slow_calls:
            with fake_server(1.0) as api_base:
                await bare_loop(api_base, 100, 100, "warmup-slow")
                ideal = args.slow_calls / 100 * 1.0
                bare_runs, engine_runs = [], []
                for r in range(args.repeat):
                    bare_runs.append(await bare_loop(api_base, args.slow_calls, 100, f"slow-bare{r}"))
                    engine_runs.append(
                        await engine_run(api_base, args.slow_calls, 100, f"slow{r}", store_dir)
                    )
                bare, slow = best(bare_runs), best(engine_runs)
                table.append(("(2) ideal calls/c*latency, c=100, 1 s", args.slow_calls, ideal, None, 0, None))
                table.append(
                    ("(2) bare acompletion loop, c=100, 1 s", args.slow_calls, *bare, bare[0] / ideal)
                )
                table.append(("(2) engine, c=100, 1 s", args.slow_calls, *slow, slow[0] / ideal))

    print(f"\nbest of {args.repeat} alternating runs each; fake server in its own process")
    print(f"{'run':42} {'calls':>6} {'wall s':>8} {'cpu ms/call':>12} {'failed':>7} {'ratio':>7}")
    for name, calls, wall, cpu, failed, ratio in table:
        cpu_text = "-" if cpu is None else f"{cpu / calls * 1000:.2f}"
        ratio_text = "" if ratio is None else f"{ratio:.2f}x"
        print(f"{name:42} {calls:>6} {wall:>8.2f} {cpu_text:>12} {failed:>7} {ratio_text:>7}")
    print("targets: (1) engine / bare <= 1.2x   (2) engine / ideal <= 1.1x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls in benchmark (1)")
    parser.add_argument("--slow-calls", type=int, default=1000, help="calls in benchmark (2); 0 skips it")
    parser.add_argument(
        "--repeat", type=int, default=2, help="alternating runs of each; the best is reported"
    )
    asyncio.run(main(parser.parse_args()))
