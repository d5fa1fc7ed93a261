"""The one async engine every model call in the project goes through (`litellm.acompletion`).

What it guarantees (DESIGN section 5, STACK-NOTES section 3):
- one row per request, in input order, whatever happens (ok, error, skipped_budget);
- per-model concurrency (a semaphore) and requests-per-minute pacing (a leaky bucket);
- retries are ours: litellm and the OpenAI SDK are told `num_retries=0, max_retries=0`; we retry 429,
  5xx, timeouts and dropped connections with exponential backoff and jitter, honouring `Retry-After`;
- successes are stored by request hash as the run goes (ResponseStore), so a re-run or a run killed
  mid-way sends only what is missing and pays for nothing twice;
- a budget: once spend (plus what is in flight) reaches it, no new call starts.
litellm is imported lazily: importing this module costs nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import polars as pl

from eval_platform.config import ModelLimits
from eval_platform.evals.response_store import RESPONSE_SCHEMA, ResponseStore

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 0.5  # first retry waits 0.25-0.5 s, then doubles (tests shrink this)
BACKOFF_CAP_S = 30.0
RETRY_AFTER_CAP_S = 300.0  # a provider asking for more than this is treated as asking for this
# Persist every second (a kill loses at most ~1 s of answers), sooner if this many are waiting.
# Not every 50 rows: a flush opens the file (~25-45 ms CPU, so other processes can share the store),
# and at 500 answers/s flushing every 50 cost ~1 ms of CPU per call (bench_engine.py).
FLUSH_EVERY_S = 1.0
FLUSH_EVERY_ROWS = 1000
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+[A-Za-z0-9._\-]+|(?i:api[_-]?key)[=:]\s*[^\s,'\"]+)"
)

OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "request_hash": pl.String(),
    "model": pl.String(),
    "repeat_index": pl.Int64(),
    "response": pl.String(),
    "status": pl.String(),
    "error": pl.String(),
    "latency_ms": pl.Float64(),
    "cost_usd": pl.Float64(),
    "cost_note": pl.String(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "cached": pl.Boolean(),
    "created_at": pl.Datetime("us"),
    "attempts": pl.Int64(),
}


@dataclass(frozen=True)
class ModelRequest:
    """One model call. `meta` rides along into the result row and is not part of the hash."""

    model: str
    messages: tuple[dict, ...] | list[dict]
    params: dict
    repeat_index: int = 0
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def request_hash(self) -> str:
        """sha256 of the canonical JSON of (model, messages, params, repeat_index)."""
        canonical = json.dumps(
            [self.model, list(self.messages), self.params, self.repeat_index],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def __hash__(self) -> int:  # the generated hash would fail on the dict fields
        return hash(self.request_hash)


@dataclass
class Progress:
    """Counts over the distinct requests of a run; spend excludes cached answers."""

    done: int
    total: int
    errors: int
    cached: int
    spend_usd: float
    eta_s: float | None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, like the warehouse's TIMESTAMP columns


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """Error text without api keys (the ones we passed, and anything shaped like one)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _SECRET.sub("***", text)


def is_retryable(exc: BaseException) -> bool:
    """429, 408/409, 5xx, timeouts and connection failures are worth another try; other 4xx are not."""
    import openai

    if isinstance(exc, (TimeoutError, ConnectionError, openai.APITimeoutError, openai.APIConnectionError)):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in _RETRYABLE_STATUS or status >= 500)


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (`retry-after-ms`, `retry-after` seconds or HTTP date)."""
    headers = getattr(exc, "litellm_response_headers", None)
    if not headers:
        try:
            headers = exc.response.headers  # type: ignore[attr-defined]
        except Exception:  # timeouts and connection errors carry no response
            return None
    lowered = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        value = lowered.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (ValueError, TypeError):
        return None


def backoff_s(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; never shorter than a (capped) Retry-After."""
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    delay = step * (0.5 + random.random() / 2)  # jitter so a burst of failures does not retry in lockstep
    if retry_after is not None:
        wanted = min(retry_after, RETRY_AFTER_CAP_S)
        delay = max(delay, wanted * (1 + 0.1 * random.random()))
    return delay


class _Gate:
    """A model's concurrency slots and rpm pacing."""

    def __init__(self, limits: ModelLimits) -> None:
        from aiolimiter import AsyncLimiter

        self.limits = limits
        self.slots = asyncio.Semaphore(limits.concurrency)
        # at most one second's worth of burst, so pacing is even rather than rpm calls at once
        burst = max(1, limits.rpm // 60) if limits.rpm else 0
        self.pacer = AsyncLimiter(burst, burst * 60 / limits.rpm) if limits.rpm else None


class _Run:
    """State of one `run_requests` call: gates, spend, progress counters and the unflushed rows."""

    def __init__(self, *, store, limits_for, budget_usd, run_id, total, cached, api_key_for, spent=0.0) -> None:
        self.store = store
        self.limits_for = limits_for
        self.budget_usd = budget_usd
        self.run_id = run_id
        self.api_key_for = api_key_for
        self.gates: dict[str, _Gate] = {}
        self.total, self.cached, self.done, self.errors = total, cached, cached, 0
        self.spent = spent
        self.in_flight_estimate = 0.0
        self.budget_reached = False
        self.cost_sum_by_model: dict[str, float] = defaultdict(float)
        self.priced_calls_by_model: dict[str, int] = defaultdict(int)
        self.unpriced_models: set[str] = set()
        self.started = time.monotonic()
        self.pending: list[dict] = []
        self.wake_flusher = asyncio.Event()
        self.stopping = False
        self.write_lock = threading.Lock()  # a flush thread and the final flush never overlap

    # --- one request -------------------------------------------------------------------------
    def gate(self, model: str) -> _Gate:
        if model not in self.gates:
            self.gates[model] = _Gate(self.limits_for(model))
        return self.gates[model]

    async def call(self, request_hash: str, request: ModelRequest) -> dict:
        """Send one request, retrying as needed; always returns an outcome row."""
        import litellm

        gate = self.gate(request.model)
        limits = gate.limits
        api_key = self.api_key_for(request.model) if self.api_key_for else _env_api_key(limits)
        kwargs = _call_kwargs(request, limits, api_key)
        row = {"request_hash": request_hash, "model": request.model, "repeat_index": request.repeat_index}
        attempts, estimate = 0, 0.0
        try:
            while True:
                async with gate.slots:
                    if attempts == 0:
                        if self._over_budget():
                            return self._finish(
                                row, status="skipped_budget", attempts=0, error=self._budget_text()
                            )
                        estimate = self._estimate(request, limits)
                        self.in_flight_estimate += estimate
                    if gate.pacer is not None:
                        await gate.pacer.acquire()
                    attempts += 1
                    started = time.perf_counter()
                    try:
                        # backstop: litellm's timeout is per network phase, this one bounds the whole call
                        async with asyncio.timeout(limits.timeout_s * 2 + 1):
                            response = await litellm.acompletion(**kwargs)
                        failure = None
                    except Exception as exc:  # every provider failure becomes a row, never a crash
                        failure = exc
                    latency_ms = (time.perf_counter() - started) * 1000
                if failure is None:
                    try:
                        fields = self._read(request, response)
                    except Exception as exc:  # a 200 without the shape of a chat completion
                        fields = {
                            "status": "error",
                            "error": redact(f"MalformedResponse: {exc!r}", [api_key]),
                        }
                    return self._finish(row, attempts=attempts, latency_ms=latency_ms, **fields)
                if not is_retryable(failure) or attempts > limits.max_retries:
                    error = redact(f"{type(failure).__name__}: {failure}", [api_key])
                    return self._finish(
                        row, status="error", error=error, attempts=attempts, latency_ms=latency_ms
                    )
                await asyncio.sleep(backoff_s(attempts, retry_after_s(failure)))
        finally:
            self.in_flight_estimate -= estimate

    def _read(self, request: ModelRequest, response: Any) -> dict:
        """Text, tokens and cost of a successful response."""
        text = response.choices[0].message.content  # first: a shapeless response fails before it is counted
        usage = getattr(response, "usage", None)
        cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
        if cost is None and request.model not in self.unpriced_models:
            try:
                import litellm

                cost = litellm.completion_cost(completion_response=response)
            except Exception:  # unknown model: remember, so we do not pay for the failed lookup again
                self.unpriced_models.add(request.model)
        if cost is not None:
            self.spent += float(cost)
            self.cost_sum_by_model[request.model] += float(cost)
            self.priced_calls_by_model[request.model] += 1
        return {
            "status": "ok",
            "response": text,
            "input_tokens": getattr(usage, "prompt_tokens", None),
            "output_tokens": getattr(usage, "completion_tokens", None),
            "cost_usd": None if cost is None else float(cost),
            "cost_note": None if cost is not None else f"no price known for model {request.model}",
        }

    def _finish(self, row: dict, **fields: Any) -> dict:
        outcome = {**row, "cached": False, "created_at": _now(), **fields}
        self.done += 1
        self.errors += outcome["status"] == "error"
        self.pending.append(outcome)
        if len(self.pending) >= FLUSH_EVERY_ROWS:
            self.wake_flusher.set()
        return outcome

    # --- budget ------------------------------------------------------------------------------
    def _over_budget(self) -> bool:
        if self.budget_usd is not None and self.spent + self.in_flight_estimate >= self.budget_usd:
            self.budget_reached = True  # sticky: once reached, no new call starts
        return self.budget_reached

    def _budget_text(self) -> str:
        return f"BudgetReached: budget {self.budget_usd} USD reached (spent {self.spent:.6f} USD in this run)"

    def _estimate(self, request: ModelRequest, limits: ModelLimits) -> float:
        """Expected cost of a call: the mean so far for the model, else a price-based guess, else 0."""
        if self.budget_usd is None:
            return 0.0
        if self.priced_calls_by_model.get(request.model):
            return self.cost_sum_by_model[request.model] / self.priced_calls_by_model[request.model]
        prompt_tokens = len(json.dumps(list(request.messages), default=str)) / 4  # ~4 characters a token
        output_tokens = float(request.params.get("max_tokens") or 256)
        in_price, out_price = _prices(request.model, limits)
        return prompt_tokens * in_price + output_tokens * out_price

    # --- persistence and progress ------------------------------------------------------------
    def take_pending(self) -> list[dict]:
        batch, self.pending = self.pending, []
        return batch

    def write(self, batch: list[dict]) -> None:
        """Store a batch (in a worker thread during the run, inline at the end)."""
        with self.write_lock:  # taken even for an empty batch: the final flush waits for one in flight
            if not batch:
                return
            frame = pl.DataFrame(batch, schema=OUTCOME_SCHEMA)
            attempts_log = frame.with_columns(run_id=pl.lit(self.run_id))
            try:
                self.store.save(frame.filter(pl.col("status") == "ok"), attempts_log)
            except Exception:
                log.exception("%s: could not store %d model responses", self.store.path, len(batch))

    async def flush_loop(self) -> None:
        # ends on `stopping`, not only on cancel: 3.11's wait_for can swallow a cancellation
        while not self.stopping:
            try:
                async with asyncio.timeout(FLUSH_EVERY_S):
                    await self.wake_flusher.wait()
            except TimeoutError:
                pass
            self.wake_flusher.clear()
            if self.pending:
                await asyncio.to_thread(self.write, self.take_pending())

    def stop(self) -> None:
        self.stopping = True
        self.wake_flusher.set()

    def progress(self) -> Progress:
        sent = self.done - self.cached
        remaining = self.total - self.done
        elapsed = time.monotonic() - self.started
        eta = 0.0 if remaining == 0 else (elapsed / sent * remaining if sent else None)
        return Progress(self.done, self.total, self.errors, self.cached, round(self.spent, 6), eta)


def _env_api_key(limits: ModelLimits) -> str | None:
    # `api_key_env` is an optional ModelLimits field (the variable that holds the key); keys never live in config
    name = getattr(limits, "api_key_env", None)
    return os.environ.get(name) if name else None


def _call_hash(request: ModelRequest, limits: ModelLimits) -> str:
    """The store key of a call: the request's hash, plus the deployment it is sent to when the config maps
    the model name (`litellm_model`), so changing that mapping sends again instead of reusing old answers."""
    if not limits.litellm_model:
        return request.request_hash
    return hashlib.sha256(f"{request.request_hash}|{limits.litellm_model}".encode()).hexdigest()


def _call_kwargs(request: ModelRequest, limits: ModelLimits, api_key: str | None) -> dict:
    kwargs = {
        **request.params,
        "model": limits.litellm_model or request.model,  # rows, hashes and limits keep the logged name
        "messages": list(request.messages),
        "timeout": limits.timeout_s,
        "num_retries": 0,  # our loop retries; num_retries would override max_retries (STACK-NOTES 3.3)
        "max_retries": 0,  # no hidden OpenAI-SDK retries either
    }
    optional = {
        "api_base": limits.api_base,
        "api_key": api_key,
        "input_cost_per_token": limits.input_cost_per_token,
        "output_cost_per_token": limits.output_cost_per_token,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    return kwargs


def _prices(model: str, limits: ModelLimits) -> tuple[float, float]:
    if limits.input_cost_per_token is not None or limits.output_cost_per_token is not None:
        return limits.input_cost_per_token or 0.0, limits.output_cost_per_token or 0.0
    import litellm

    for key in (model, model.split("/", 1)[-1]):
        info = litellm.model_cost.get(key)
        if info:
            return info.get("input_cost_per_token") or 0.0, info.get("output_cost_per_token") or 0.0
    return 0.0, 0.0  # unknown price: such calls never count against the budget


async def _drain_litellm_logging() -> None:
    # litellm's background logging task would otherwise die with the loop (STACK-NOTES 3.2)
    try:
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

        await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), 5)
        await GLOBAL_LOGGING_WORKER.stop()
    except Exception:  # an internal API: losing litellm's own callbacks is harmless to us
        log.debug("could not drain litellm's logging worker", exc_info=True)


def _assemble(requests: Sequence[ModelRequest], hashes: list[str], outcomes: pl.DataFrame) -> pl.DataFrame:
    """One row per request, in input order, with the meta columns appended."""
    order = pl.DataFrame({"request_hash": hashes}, schema={"request_hash": pl.String()})
    rows = order.join(outcomes.unique("request_hash"), on="request_hash", how="left", maintain_order="left")
    metas = [request.meta for request in requests]
    if any(metas):
        meta = pl.from_dicts(metas, infer_schema_length=None, strict=False)
        clash = sorted(set(meta.columns) & set(OUTCOME_SCHEMA))
        if clash:
            raise ValueError(f"ModelRequest.meta keys {clash} collide with engine result columns")
        rows = rows.hstack(meta)
    return rows


async def run_requests(
    requests: Sequence[ModelRequest],
    *,
    store: ResponseStore,
    limits_for: Callable[[str], ModelLimits],
    budget_usd: float | None = None,
    force: bool = False,
    run_id: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 5.0,
    api_key_for: Callable[[str], str | None] | None = None,
) -> pl.DataFrame:
    """Answer every request; return one row per request in input order (columns: OUTCOME_SCHEMA + meta).

    Stored successes come back with `cached=True` and are not sent (unless `force`); duplicates in
    the batch are sent once. `api_key_for(model)` supplies a key per call (else litellm's usual
    environment variables, or `limits.api_key_env` when configured).
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list download at import
    import litellm

    litellm.suppress_debug_info = True
    hashes = [_call_hash(request, limits_for(request.model)) for request in requests]
    distinct: dict[str, ModelRequest] = {}
    for request_hash, request in zip(hashes, requests, strict=True):
        distinct.setdefault(request_hash, request)
    cached = pl.DataFrame(schema=RESPONSE_SCHEMA) if force else store.lookup(list(distinct))
    cached_hashes = set(cached["request_hash"].to_list())
    # the budget is per run: what earlier calls under the same run_id logged (another step of the run, a
    # retried step) counts against it
    spent = float(store.attempts(run_id)["cost_usd"].sum() or 0.0) if run_id and budget_usd is not None else 0.0
    run = _Run(
        store=store,
        limits_for=limits_for,
        budget_usd=budget_usd,
        run_id=run_id or uuid.uuid4().hex,
        total=len(distinct),
        cached=len(cached_hashes),
        api_key_for=api_key_for,
        spent=spent,
    )

    async def report_every() -> None:
        while not run.stopping:
            await asyncio.sleep(progress_every_s)
            _report(progress, run.progress())

    helpers = [asyncio.create_task(run.flush_loop())]
    if progress is not None:
        helpers.append(asyncio.create_task(report_every()))
    try:
        sent = await asyncio.gather(
            *(run.call(h, request) for h, request in distinct.items() if h not in cached_hashes)
        )
    finally:
        run.stop()
        run.write(run.take_pending())  # first, and also on cancellation: what finished is kept
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
    _report(progress, run.progress())
    await _drain_litellm_logging()
    from_store = cached.select(
        *(pl.col(name) for name in RESPONSE_SCHEMA),
        status=pl.lit("ok"),
        error=pl.lit(None, pl.String()),
        cached=pl.lit(True),
    )
    outcomes = pl.concat(
        [
            pl.DataFrame(sent, schema=OUTCOME_SCHEMA),
            from_store.select(list(OUTCOME_SCHEMA)).cast(OUTCOME_SCHEMA),
        ]
    )
    return _assemble(requests, hashes, outcomes)


def _report(progress: Callable[[Progress], None] | None, snapshot: Progress) -> None:
    if progress is None:
        return
    try:
        progress(snapshot)
    except Exception:  # a broken progress bar must not stop an eval
        log.warning("progress callback failed", exc_info=True)


def run_requests_sync(requests: Sequence[ModelRequest], **kwargs: Any) -> pl.DataFrame:
    """`run_requests(requests, **kwargs)` in a fresh event loop (in a worker thread if this thread already
    runs a loop); the keywords are `run_requests`' own, checked when it is called."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_requests(requests, **kwargs))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval-engine") as pool:
        return pool.submit(lambda: asyncio.run(run_requests(requests, **kwargs))).result()
