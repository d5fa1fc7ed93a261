"""A run killed with SIGKILL mid-way loses at most its unflushed answers; the re-run sends only those."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from eval_platform.config import ModelLimits
from eval_platform.evals.engine import ModelRequest, run_requests_sync
from eval_platform.evals.response_store import ResponseStore
from eval_platform_tests.fake_openai_server import FakeOpenAIServer

N = 60

ENGINE_RUN = """
import sys
from eval_platform.config import ModelLimits
from eval_platform.evals.engine import ModelRequest, run_requests_sync
from eval_platform.evals.response_store import ResponseStore

store_path, api_base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
limits = ModelLimits(api_base=api_base, concurrency=4, timeout_s=5)
requests = [ModelRequest("openai/fake", [{"role": "user", "content": f"k{i}"}], {}) for i in range(n)]
run_requests_sync(requests, store=ResponseStore(store_path), limits_for=lambda m: limits, api_key_for=lambda m: "k")
"""


def requests() -> list[ModelRequest]:
    return [ModelRequest("openai/fake", [{"role": "user", "content": f"k{i}"}], {}) for i in range(N)]


def test_rerun_after_sigkill_sends_exactly_what_was_not_stored(tmp_path):
    store = ResponseStore(tmp_path / "responses.duckdb", lock_wait_s=10)
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with FakeOpenAIServer(latency_s=0.2) as server:
        child = subprocess.Popen(
            [sys.executable, "-c", ENGINE_RUN, str(store.path), server.base_url, str(N)], env=env
        )
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline and child.poll() is None:
                if store.path.exists() and store.responses().height > 0:
                    break
                time.sleep(0.05)
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL, "the engine finished before it could be killed"

        hits_before = server.stats()["hits"]
        stored = set(store.responses()["request_hash"].to_list())
        assert 0 < len(stored) < N
        unflushed = sum(hits_before.values()) - len(stored)  # sent by the killed run, answer never stored
        assert unflushed >= 0

        limits = ModelLimits(api_base=server.base_url, concurrency=4, timeout_s=5)
        rows = run_requests_sync(
            requests(), store=store, limits_for=lambda m: limits, api_key_for=lambda m: "k"
        )
        hits_after = server.stats()["hits"]

    assert rows.height == N and rows["status"].unique().to_list() == ["ok"]
    assert set(rows.filter("cached")["request_hash"]) == stored
    for req in requests():
        prompt = req.messages[0]["content"]
        sent_again = hits_after.get(prompt, 0) - hits_before.get(prompt, 0)
        assert sent_again == (0 if req.request_hash in stored else 1), prompt
