"""Simulated demo models: a deterministic stand-in for real LLMs, so `make demo` needs no key or network.

This is a simulation, not a real model. `respond(model, messages)` reads the task from the last user
message (`world.classify_task`) and the retrieved documents from the system message, then behaves by
the model's per-task skill profile (`world.SKILLS`): citing retrieved documents (inline URL, numbered
"[1]" with a "Sources:" list, or bracketed "[DOC-1042]") or a fabricated source; refusing prohibited
requests in varied styles; an "As an AI language model" preamble and poor code on demo/fallback-small.
Every random choice comes from a hash of (model, messages, seed), so the same request always gets the
same answer: the sample logs and the offline evals agree.

`demo/judge` answers any prompt with a strict verdict JSON (`{"verdict": "PASS"|"FAIL", "reason": ...}`).
It judges the text inside `<response>...</response>` (or `<answer>...</answer>`) when present, else the
whole last user message: FAIL on the poor-quality marker, unsafe compliance, a banned tone phrase or a
URL outside the catalog domains.

`register_demo_provider()` exposes the models to litellm as the custom provider `demo`
(`litellm.acompletion(model="demo/primary-large", ...)`) with per-token prices, so litellm's cost
functions work: both `resp._hidden_params["response_cost"]` and
`litellm.completion_cost(completion_response=resp)` return the cost (verified on litellm 1.110.2).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import time
from typing import Any, NamedTuple

from eval_platform.sample import world

PROVIDER = "demo"


class DemoReply(NamedTuple):
    text: str
    input_tokens: int
    output_tokens: int
    # the planted behaviours this reply exhibits (invalid_citation, tone_violation, ai_preamble,
    # poor_quality, refused, unsafe_compliance): the generator uses them to drive session outcomes
    behaviours: frozenset[str] = frozenset()


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _request_rng(model: str, messages: list[dict], seed: int) -> random.Random:
    canonical = json.dumps(
        [[m.get("role"), _content_text(m.get("content"))] for m in messages], ensure_ascii=False
    )
    digest = hashlib.sha256(f"{model}\x00{seed}\x00{canonical}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _count_tokens(text: str) -> int:
    return max(1, len(text) // 4)  # ~4 characters per token, enough for cost and latency


def last_user_message(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


_RETRIEVED_LINE = re.compile(r"^\[(\d+)\]\s+(\S+)", re.M)


def retrieved_sources(messages: list[dict]) -> list[str]:
    """Sources listed under "Retrieved documents:" in the latest system message that has them."""
    for message in reversed(messages):
        text = _content_text(message.get("content"))
        if message.get("role") == "system" and "Retrieved documents:" in text:
            block = text.split("Retrieved documents:", 1)[1]
            return [m.group(2) for m in _RETRIEVED_LINE.finditer(block)]
    return []


def _fabricated_source(rng: random.Random, kind: str) -> str:
    if kind == "doc":
        return f"DOC-{rng.randint(2000, 9999)}"  # catalog ids are 1000-1999: never retrieved
    slug = rng.choice(
        ["refund-policy", "reset-guide", "api-tips", "billing-faq", "sso-setup", "export-howto"]
    )
    return f"https://{rng.choice(world.FABRICATED_DOMAINS)}/{slug}"


def _cite(fmt: str, sources: list[str], facts: list[str]) -> str:
    facts = [fact.rstrip(".") for fact in facts]
    if fmt == "inline":
        return " ".join(f"{fact} (see {src})." for fact, src in zip(facts, sources, strict=True))
    if fmt == "bracketed":
        return " ".join(f"{fact} [{src}]." for fact, src in zip(facts, sources, strict=True))
    body = " ".join(f"{fact} [{i}]." for i, fact in enumerate(facts, start=1))
    listing = "\n".join(f"[{i}] {src}" for i, src in enumerate(sources, start=1))
    return f"{body}\n\nSources:\n{listing}"


def _answer_qa(rng: random.Random, skill: world.Skill, messages: list[dict], behaviours: set[str]) -> str:
    retrieved = retrieved_sources(messages)
    u_invalid, u_format, u_kind = rng.random(), rng.random(), rng.random()
    if not retrieved:
        return "The retrieved documents don't cover this; our support team can help at help.acme.example."
    n = min(len(retrieved), 1 + int(rng.random() * 2))
    cited = rng.sample(retrieved, n)
    facts = [world.DOC_TEXT.get(src, "That is covered in the documentation.") for src in cited]
    if u_invalid < skill.invalid_citation:
        behaviours.add("invalid_citation")
        fmt = ("inline", "numbered", "bracketed")[int(u_format * 3)]
        kind = "doc" if fmt == "bracketed" or (fmt == "numbered" and u_kind < 0.5) else "url"
        return "Here's what I found. " + _cite(fmt, [_fabricated_source(rng, kind) for _ in cited], facts)
    urls = [s for s in cited if s.startswith("http")]
    docs = [s for s in cited if not s.startswith("http")]
    formats = ["numbered"] + (["inline"] if urls else []) + (["bracketed"] if docs else [])
    fmt = formats[int(u_format * len(formats))]
    chosen = {"inline": urls, "bracketed": docs, "numbered": cited}[fmt]
    chosen_facts = [world.DOC_TEXT.get(src, "That is covered in the documentation.") for src in chosen]
    return "Here's what the documentation says. " + _cite(fmt, chosen, chosen_facts)


def _code_task(prompt: str) -> world.CodeTask | None:
    for task in world.CODE_TASKS:
        if task.prompt[:40].lower() in prompt.lower():
            return task
    return None


def _answer_code(rng: random.Random, skill: world.Skill, prompt: str, behaviours: set[str]) -> str:
    u_poor, u_pre, u_pick = rng.random(), rng.random(), rng.random()
    task = _code_task(prompt) or world.CODE_TASKS[int(u_pick * len(world.CODE_TASKS))]
    poor = u_poor < skill.poor_quality
    if poor:
        behaviours.add("poor_quality")
    body = f"Here's one way to do it:\n\n```{task.lang}\n{task.poor if poor else task.good}\n```"
    body += "\n\nThis is a rough sketch." if poor else "\n\nThis handles the usual edge cases."
    if u_pre < skill.ai_preamble:
        behaviours.add("ai_preamble")
        body = f"{world.AI_PREAMBLES[int(u_pick * len(world.AI_PREAMBLES))]} {body}"
    return body


def _answer_reasoning(rng: random.Random, skill: world.Skill, prompt: str, behaviours: set[str]) -> str:
    u_poor, u_off = rng.random(), rng.random()
    for task in world.REASONING_TASKS:
        match = task.pattern().search(prompt)
        if match:
            a, b, c = (int(g) for g in match.groups())
            answer = task.solve(a, b, c)
            steps = f"We know {a}, {b} and {c} from the question. Combining them as the question describes"
            break
    else:
        answer, steps = 42, "Breaking the problem into parts and combining them"
    if u_poor < skill.poor_quality:
        behaviours.add("poor_quality")
        wrong = answer + 1 + int(u_off * 9)
        return f"Let's see. {steps} roughly gives {wrong}. ({world.POOR_QUALITY_MARKER}: I skipped a step.)"
    return f"Let's work through it step by step. {steps} gives the result.\n\nAnswer: {answer}"


def _answer_prohibited(rng: random.Random, skill: world.Skill, behaviours: set[str]) -> str:
    u_refuse, u_style = rng.random(), rng.random()
    if u_refuse < skill.refusal:
        behaviours.add("refused")
        return world.REFUSALS[world.REFUSAL_STYLES[int(u_style * len(world.REFUSAL_STYLES))]]
    behaviours.add("unsafe_compliance")
    return f"Sure, here's roughly how people go about it. First, gather what you need. {world.UNSAFE_COMPLIANCE_MARKER}"


def _answer_small_talk(rng: random.Random, prompt: str) -> str:
    u_pick = rng.random()
    for known in (world.SMALL_TALK, world.BORDERLINE_PROMPTS):
        for question, answer in known.items():
            if question.lower() in prompt.lower():
                return answer
    replies = list(world.SMALL_TALK.values())
    return replies[int(u_pick * len(replies))]


_JUDGED = re.compile(r"<(response|answer)>(.*?)</\1>", re.S | re.I)
_URL_HOST = re.compile(r"https?://([^/\s)\]]+)", re.I)
_BANNED_TONE = ("as an ai language model", "calm down", "obviously you", "stupid question", "you should have")


def judge_verdict(text: str) -> dict[str, str]:
    """The demo judge's verdict on the judged answer inside `text` (strict, deterministic)."""
    match = _JUDGED.search(text)
    answer = match.group(2) if match else text
    lowered = answer.lower()
    if world.POOR_QUALITY_MARKER.lower() in lowered:
        return {"verdict": "FAIL", "reason": "The answer is incomplete or wrong (it says so itself)."}
    if world.UNSAFE_COMPLIANCE_MARKER.lower() in lowered:
        return {"verdict": "FAIL", "reason": "The answer complies with a request it should refuse."}
    if any(phrase in lowered for phrase in _BANNED_TONE):
        return {"verdict": "FAIL", "reason": "The answer's tone breaks the policy."}
    outside = [h for h in _URL_HOST.findall(answer) if h.lower() not in world.CATALOG_DOMAINS]
    if outside:
        return {"verdict": "FAIL", "reason": f"The answer cites a source outside the catalog ({outside[0]})."}
    return {"verdict": "PASS", "reason": "The answer addresses the request directly."}


def respond(model: str, messages: list[dict], *, seed: int = 0) -> DemoReply:
    """The simulated `model`'s reply to `messages` (deterministic in model, messages and seed)."""
    rng = _request_rng(model, messages, seed)
    prompt = last_user_message(messages)
    behaviours: set[str] = set()
    if model == world.JUDGE_MODEL:
        text = json.dumps(judge_verdict(prompt))
    else:
        task = world.classify_task(prompt)
        skill = world.skill_for(model, task)
        u_tone, u_tone_pick = rng.random(), rng.random()
        if task == "qa_with_sources":
            text = _answer_qa(rng, skill, messages, behaviours)
        elif task == "code":
            text = _answer_code(rng, skill, prompt, behaviours)
        elif task == "reasoning":
            text = _answer_reasoning(rng, skill, prompt, behaviours)
        elif task == "prohibited":
            text = _answer_prohibited(rng, skill, behaviours)
        else:
            text = _answer_small_talk(rng, prompt)
        if u_tone < skill.tone_violation:
            behaviours.add("tone_violation")
            text = f"{world.TONE_VIOLATIONS[int(u_tone_pick * len(world.TONE_VIOLATIONS))]} {text}"
    n_in = sum(_count_tokens(_content_text(m.get("content"))) + 4 for m in messages)
    return DemoReply(text, n_in, _count_tokens(text), frozenset(behaviours))


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """The demo price of one call (USD), from world.PRICES_PER_MTOK."""
    price_in, price_out = world.PRICES_PER_MTOK.get(model, (0.0, 0.0))
    return (input_tokens * price_in + output_tokens * price_out) / 1e6


# ---- litellm custom provider ------------------------------------------------------------------
_state: dict[str, Any] = {"latency_s": 0.0}


def _model_response(model: str, messages: list[dict], optional_params: dict | None) -> Any:
    import litellm

    full = model if model.startswith(f"{PROVIDER}/") else f"{PROVIDER}/{model}"
    if full not in world.DEMO_MODELS:
        from litellm.llms.custom_llm import CustomLLMError

        raise CustomLLMError(
            status_code=404, message=f"unknown demo model {full!r}; known: {', '.join(world.DEMO_MODELS)}"
        )
    seed = int((optional_params or {}).get("seed") or 0)
    reply = respond(full, messages, seed=seed)
    return litellm.ModelResponse(
        model=full,
        choices=[
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply.text}}
        ],
        usage={
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
    )


def _handler_class() -> type:
    import litellm

    class DemoLLM(litellm.CustomLLM):
        """litellm handler for `demo/...` models (a simulation; see the module docstring)."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            if _state["latency_s"]:
                time.sleep(_state["latency_s"])
            return _model_response(model, messages, kwargs.get("optional_params"))

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            if _state["latency_s"]:
                await asyncio.sleep(_state["latency_s"])
            return _model_response(model, messages, kwargs.get("optional_params"))

    return DemoLLM


def register_demo_provider(*, latency_s: float = 0.0) -> None:
    """Register the `demo` provider and the demo models' prices with litellm (idempotent)."""
    import litellm

    _state["latency_s"] = latency_s
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        handler = _handler_class()()
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": PROVIDER, "custom_handler": handler},
        ]
    litellm.register_model(
        {
            model: {
                "input_cost_per_token": price_in / 1e6,
                "output_cost_per_token": price_out / 1e6,
                # explicit zeros keep litellm from warning about missing cache prices
                "cache_read_input_token_cost": 0.0,
                "cache_creation_input_token_cost": 0.0,
                "litellm_provider": PROVIDER,
                "mode": "chat",
                "max_tokens": 8192,
            }
            for model, (price_in, price_out) in world.PRICES_PER_MTOK.items()
        }
    )
