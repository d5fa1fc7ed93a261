"""`make bench`: every benchmark, one after the other, each reporting ratios against a baseline
measured in the same run (these machines are shared and noisy; absolute seconds are not comparable).

    python eval_platform_tests/benchmarks/run_all.py [--quick]

--quick runs each at a tenth of its size (a smoke test of the harness, not a measurement).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = [
    ("ingest (issue 2)", "bench_ingest.py", ["--lines", "1000000"], ["--lines", "100000"]),
    ("ingest memory, day of 4 files (issue 2)", "bench_spill.py", ["--lines", "1000000"], ["--lines", "100000"]),
    ("corpus (issue 3)", "bench_corpus.py", ["--records", "1000000"], ["--records", "100000", "--repeats", "1"]),
    ("engine (issue 4)", "bench_engine.py", [], ["--calls", "200", "--slow-calls", "100", "--repeat", "1"]),
    ("scoring (issue 5)", "bench_scoring.py", ["--records", "1000000"], ["--records", "100000"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="run only benchmarks whose file name contains this")
    args = parser.parse_args()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    failed = []
    for title, script, full, quick in BENCHES:
        if args.only and args.only not in script:
            continue
        if not (HERE / script).exists():
            print(f"\n=== {title}: {script} is missing", flush=True)
            failed.append(script)
            continue
        load = os.getloadavg()[0]
        print(f"\n=== {title}: {script} {' '.join(quick if args.quick else full)} (load average {load:.2f})", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / script), *(quick if args.quick else full)], env=env)
        print(f"=== {title}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
