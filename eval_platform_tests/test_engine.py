"""The model-call engine against a real OpenAI-compatible HTTP server on 127.0.0.1 (no network, no key)."""

from __future__ import annotations

import asyncio
import time

import polars as pl
import pytest

from eval_platform.config import ModelLimits
from eval_platform.evals import engine
from eval_platform.evals.engine import ModelRequest, run_requests, run_requests_sync
from eval_platform.evals.response_store import ResponseStore
from eval_platform_tests.fake_openai_server import FakeOpenAIServer

MODEL = "openai/fake"


@pytest.fixture(scope="module", autouse=True)
def litellm_imported():
    """The engine imports litellm lazily (seconds): import it before any test times or cancels a run."""
    import litellm  # noqa: F401


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(engine, "BACKOFF_BASE_S", 0.05)


@pytest.fixture
def server():
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def store(tmp_path):
    return ResponseStore(tmp_path / "responses.duckdb")


def request(prompt: str, **meta) -> ModelRequest:
    return ModelRequest(MODEL, [{"role": "user", "content": prompt}], {"temperature": 0}, meta=meta)


def run(requests, store, server, **options) -> pl.DataFrame:
    limit_fields = {k: options.pop(k) for k in list(options) if k in ModelLimits.model_fields}
    limits = ModelLimits(**{"api_base": server.base_url, "timeout_s": 5, "max_retries": 2, **limit_fields})
    return run_requests_sync(
        requests,
        store=store,
        limits_for=lambda model: limits,
        api_key_for=lambda model: "test-key-s3cret",
        **options,
    )


def test_ok_rows_in_input_order_with_meta_and_duplicates_sent_once(server, store):
    prompts = ["alpha", "beta", "gamma", "alpha"]
    rows = run([request(p, item_id=f"i{n}") for n, p in enumerate(prompts)], store, server)
    assert rows["response"].to_list() == [f"echo: {p}" for p in prompts]
    assert rows["item_id"].to_list() == ["i0", "i1", "i2", "i3"]
    assert rows["status"].unique().to_list() == ["ok"]
    assert rows["attempts"].to_list() == [1, 1, 1, 1]
    assert rows["input_tokens"].to_list() == [1, 1, 1, 1] and rows["output_tokens"].to_list() == [5, 5, 5, 5]
    assert not rows["cached"].any() and rows["created_at"].null_count() == 0
    assert rows["cost_usd"].null_count() == 4  # the fake model has no price ...
    assert rows["cost_note"][0] == f"no price known for model {MODEL}"  # ... and the row says so
    assert server.stats()["hits"] == {"alpha": 1, "beta": 1, "gamma": 1}


def test_a_logged_name_is_called_as_its_configured_litellm_model(server, store):
    """A LiteLLM log's served model (the provider's name) is called as the deployment the config maps it to;
    the rows and the limits keep the logged name."""
    logged = ModelRequest("gpt-4o-2024-08-06", [{"role": "user", "content": "hi"}], {"temperature": 0})
    rows = run([logged], store, server, litellm_model="openai/my-deployment")
    assert server.stats()["models"] == ["my-deployment"]  # what reached the provider
    assert rows["model"].to_list() == ["gpt-4o-2024-08-06"] and rows["status"].to_list() == ["ok"]
    # the stored answer belongs to that deployment: the same mapping reuses it, another one sends again
    assert run([logged], store, server, litellm_model="openai/my-deployment")["cached"].to_list() == [True]
    again = run([logged], store, server, litellm_model="openai/other-deployment")
    assert again["cached"].to_list() == [False] and server.stats()["models"] == ["my-deployment", "other-deployment"]
    assert len({rows["request_hash"][0], again["request_hash"][0], logged.request_hash}) == 3


def test_429_waits_for_retry_after_then_succeeds(server, store):
    server.script("busy", ["429:1", "ok"])
    rows = run([request("busy")], store, server)
    assert rows["status"][0] == "ok" and rows["attempts"][0] == 2
    first, second = server.stats()["hit_times"]["busy"]
    assert second - first >= 0.95


def test_500_twice_then_ok(server, store):
    server.script("flaky", ["500", "500", "ok"])
    rows = run([request("flaky")], store, server)
    assert rows["status"][0] == "ok" and rows["attempts"][0] == 3
    assert server.stats()["hits"]["flaky"] == 3


def test_permanent_400_fails_at_once_without_leaking_the_key(server, store):
    server.script("bad", ["400"])
    rows = run([request("bad")], store, server)
    assert rows["status"][0] == "error" and rows["response"][0] is None
    assert "BadRequestError" in rows["error"][0] and "scripted 400" in rows["error"][0]
    # the server echoed the key it was sent (as providers do with a bad one); the stored error must not
    assert "credentials sent: Bearer " in rows["error"][0] and "s3cret" not in rows["error"][0]
    assert server.stats()["hits"]["bad"] == 1


def test_timeout_is_retried_then_recorded(server, store):
    server.script("slow", ["sleep:3"])
    started = time.monotonic()
    rows = run([request("slow")], store, server, timeout_s=0.4, max_retries=2)
    assert rows["status"][0] == "error" and "Timeout" in rows["error"][0]
    assert rows["attempts"][0] == 3 and server.stats()["hits"]["slow"] == 3
    assert time.monotonic() - started < 5  # the timeout was applied, not litellm's 6000 s default


def test_malformed_body_is_an_error_row(server, store):
    server.script("garbled", ["malformed"])
    rows = run([request("garbled")], store, server, max_retries=1)
    assert rows["status"][0] == "error" and rows["error"][0]
    assert server.stats()["hits"]["garbled"] == 2  # treated like a 5xx: retried, then recorded


def test_dropped_connection_is_retried(server, store):
    server.script("dropped", ["drop", "ok"])
    rows = run([request("dropped")], store, server)
    assert rows["status"][0] == "ok" and server.stats()["hits"]["dropped"] == 2


def test_no_request_is_lost_whatever_happens(server, store):
    scripts = [["ok"], ["400"], ["500"], ["drop", "ok"], ["429:0", "ok"], ["malformed"]]
    requests = []
    for n in range(30):
        server.script(f"p{n}", scripts[n % len(scripts)])
        requests.append(request(f"p{n}", n=n))
    rows = run(requests, store, server, max_retries=1, concurrency=4)
    assert rows.height == 30 and rows["n"].to_list() == list(range(30))
    statuses = rows.group_by("status").len().sort("status")
    assert dict(statuses.iter_rows()) == {"ok": 15, "error": 15}
    logged = store.attempts()
    assert logged.height == 30 and set(logged["request_hash"]) == set(rows["request_hash"])


def test_second_run_uses_the_store_and_force_resends(server, store):
    server.script("bad", ["400"])
    requests = [request(p) for p in ("one", "two", "bad")]
    first = run(requests, store, server)
    assert first["status"].to_list() == ["ok", "ok", "error"]
    second = run(requests, store, server)
    assert server.stats()["hits"] == {"one": 1, "two": 1, "bad": 2}  # errors are retried, answers are not
    assert second["cached"].to_list() == [True, True, False]
    assert second["response"].to_list()[:2] == ["echo: one", "echo: two"]
    run(requests, store, server, force=True)
    assert server.stats()["hits"] == {"one": 2, "two": 2, "bad": 3}


def test_budget_stops_new_calls(server, store):
    # 1 input token at $0.001 and free output: every call costs exactly $0.001
    requests = [request(f"q{n}") for n in range(10)]
    rows = run(
        requests,
        store,
        server,
        budget_usd=0.0045,
        concurrency=1,
        input_cost_per_token=0.001,
        output_cost_per_token=0.0,
    )
    assert rows["status"].to_list() == ["ok"] * 5 + ["skipped_budget"] * 5
    assert rows["cost_usd"].sum() == pytest.approx(0.005)
    assert server.stats()["total"] == 5
    assert rows.filter(pl.col("status") == "skipped_budget")["error"].str.contains("BudgetReached").all()


def test_the_budget_counts_what_the_run_spent_before(server, store):
    """A second call of the engine under the same run_id (the judge after the evals, a retried step) gets
    what the first one left of the budget, not a new one; another run starts afresh."""
    priced = {"concurrency": 1, "input_cost_per_token": 0.001, "output_cost_per_token": 0.0}
    first = run([request(f"a{n}") for n in range(3)], store, server, budget_usd=0.0045, run_id="run-1", **priced)
    assert first["status"].to_list() == ["ok"] * 3
    again = run([request(f"b{n}") for n in range(4)], store, server, budget_usd=0.0045, run_id="run-1", **priced)
    assert again["status"].to_list() == ["ok", "ok", "skipped_budget", "skipped_budget"]
    other = run([request(f"c{n}") for n in range(4)], store, server, budget_usd=0.0045, run_id="run-2", **priced)
    assert other["status"].to_list() == ["ok"] * 4


def test_concurrency_limit_is_respected(store):
    with FakeOpenAIServer(latency_s=0.1) as server:
        rows = run([request(f"c{n}") for n in range(12)], store, server, concurrency=3)
        assert rows["status"].unique().to_list() == ["ok"]
        assert server.stats()["max_in_flight"] == 3


def test_rpm_limiter_paces_calls(server, store):
    # rpm 240: a burst of at most 4, then one call every 0.25 s
    run([request(f"r{n}") for n in range(12)], store, server, rpm=240, concurrency=12)
    times = sorted(t for hits in server.stats()["hit_times"].values() for t in hits)
    assert times[-1] - times[0] >= 1.7
    assert sum(t - times[0] < 0.2 for t in times) <= 5


def test_progress_is_reported_during_and_at_the_end(store):
    seen = []
    with FakeOpenAIServer(latency_s=0.1) as server:
        run(
            [request(f"g{n}") for n in range(8)],
            store,
            server,
            concurrency=2,
            progress=seen.append,
            progress_every_s=0.1,
        )
    assert len(seen) >= 3
    assert seen[-1].done == seen[-1].total == 8 and seen[-1].eta_s == 0.0
    assert any(snapshot.done < 8 and snapshot.eta_s is not None for snapshot in seen)


def test_sync_entry_point_works_inside_a_running_loop(server, store):
    async def caller():
        return run([request("nested")], store, server)

    rows = asyncio.run(caller())
    assert rows["status"][0] == "ok"


def test_cancellation_keeps_finished_answers(store):
    limits = None

    async def cancel_midway(server):
        answered = asyncio.Event()
        task = asyncio.create_task(
            run_requests(
                [request(f"k{n}") for n in range(20)],
                store=store,
                limits_for=lambda model: limits,
                api_key_for=lambda model: "k",
                progress=lambda p: answered.set() if p.done >= 3 else None,
                progress_every_s=0.05,
            )
        )
        await asyncio.wait_for(answered.wait(), timeout=60)  # cancel once some answers are in, not after a guess
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with FakeOpenAIServer(latency_s=0.2) as server:
        limits = ModelLimits(api_base=server.base_url, concurrency=2, timeout_s=2)
        asyncio.run(cancel_midway(server))
        stored = store.responses().height
        assert 0 < stored < 20
        assert stored <= server.stats()["total"]


def test_request_hash_covers_call_but_not_meta():
    base = request("x", item="a")
    assert base.request_hash == request("x", item="b").request_hash
    assert len(base.request_hash) == 64
    variants = [
        ModelRequest("openai/other", base.messages, base.params),
        ModelRequest(MODEL, base.messages, {"temperature": 1}),
        ModelRequest(MODEL, base.messages, base.params, repeat_index=1),
        request("y"),
    ]
    assert len({base.request_hash, *(v.request_hash for v in variants)}) == 5
    assert ModelRequest(MODEL, tuple(base.messages), base.params).request_hash == base.request_hash


def test_retry_helpers():
    class Fake(Exception):
        def __init__(self, status, headers):
            self.status_code = status
            self.litellm_response_headers = headers

    assert engine.retry_after_s(Fake(429, {"Retry-After": "2"})) == 2.0
    assert engine.retry_after_s(Fake(429, {"retry-after-ms": "1500"})) == 1.5
    assert engine.retry_after_s(Fake(429, {})) is None
    assert engine.is_retryable(Fake(429, None)) and engine.is_retryable(Fake(503, None))
    assert not engine.is_retryable(Fake(400, None)) and not engine.is_retryable(ValueError("x"))
    assert 0.025 <= engine.backoff_s(1) <= 0.05
    assert engine.backoff_s(1, retry_after=3) >= 3
    assert engine.redact("auth Bearer abc.def key sk-abcdefgh123 mine", ["mine"]) == "auth *** key *** ***"
