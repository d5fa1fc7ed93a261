"""The sample generator: deterministic files, the promised layout and counts, and the planted properties."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from eval_platform.evals.demo_models import respond
from eval_platform.labels import read_expert_flags, read_golden, read_overrides
from eval_platform.sample import world
from eval_platform.sample.generator import MALFORMED_COUNTS, sample_command, write_sample

START = date(2026, 11, 16)
REFUSAL = re.compile(r"\b(I can't|I cannot|I won't|I'm not able to|I'm sorry, but)\b", re.I)
TONE = re.compile("|".join(re.escape(p) for p in (*world.TONE_VIOLATIONS, "as an ai language model")), re.I)
CITED = re.compile(r"https?://[^\s)\]]+|\bDOC-\d{4}\b")


def classify_line(raw: bytes) -> tuple[str, dict | None]:
    """Which malformed kind a raw line is (or "ok" with the record), judged from the bytes alone."""
    if not raw.strip():
        return "blank_line", None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8", None
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return "truncated_json", None
    if isinstance(record["turn"], str):
        return "turn_as_string", None
    for key in ("session_id", "ts"):
        if key not in record:
            return f"missing_{key}", None
    return "ok", record


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    began = time.perf_counter()
    summary = write_sample(root)
    elapsed = time.perf_counter() - began
    kinds: Counter[str] = Counter()
    records: list[dict] = []
    for path in sorted((root / "landing" / "native").glob("*.jsonl")):
        day_number = (date.fromisoformat(path.stem) - START).days + 1
        for raw in path.read_bytes().split(b"\n")[:-1]:
            kind, record = classify_line(raw)
            kinds[kind] += 1
            if record:
                records.append(record | {"_day": day_number, "_file": path.stem})
    return root, summary, elapsed, kinds, records


def by(records: list[dict], **where) -> list[dict]:
    return [r for r in records if all(r.get(k) == v for k, v in where.items())]


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def test_same_arguments_give_byte_identical_files(tmp_path):
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    write_sample(tmp_path / "a", days=3, sessions_per_day=60, seed=11)
    write_sample(tmp_path / "b", days=3, sessions_per_day=60, seed=11)
    write_sample(tmp_path / "c", days=3, sessions_per_day=60, seed=12)
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert a == b
    assert len(a) == 3 + 3  # three days, two label files, one golden file
    assert a["landing/native/2026-11-16.jsonl"] != c["landing/native/2026-11-16.jsonl"]


def test_layout_counts_and_speed(sample):
    root, summary, elapsed, kinds, records = sample
    assert elapsed < 5
    names = sorted(p.name for p in (root / "landing" / "native").iterdir())
    assert names == [f"{START + timedelta(days=d)}.jsonl" for d in range(14)]
    assert (root / "labels" / "expert_flags.csv").exists() and (root / "labels" / "overrides.csv").exists()
    # a single-turn session whose line was corrupted disappears from the valid records
    assert (
        summary.sessions
        == 4200
        >= len({r["session_id"] for r in records})
        >= 4200 - sum(MALFORMED_COUNTS.values())
    )
    assert 7000 <= len(records) == summary.records <= 11000
    assert summary.lines == sum(kinds.values())
    assert set(r["routing_path"] for r in records) == set(world.PATH_MODELS)
    assert {r["served_model"] for r in records} == set(world.PATH_MODELS.values())
    assert all(world.PATH_MODELS[r["routing_path"]] == r["served_model"] for r in records)
    assert max(r["turn"] for r in records) == 4 and Counter(r["turn"] for r in records)[1] > 3000


def test_each_day_sorted_by_ts_within_its_utc_day(sample):
    _, _, _, _, records = sample
    for day in {r["_file"] for r in records}:
        stamps = [r["ts"] for r in records if r["_file"] == day]
        assert stamps == sorted(stamps)
        assert all(s.startswith(day) and s.endswith("Z") for s in stamps)
        hours = {int(s[11:13]) for s in stamps}
        assert len(hours) >= 20  # spread over the day


def test_malformed_lines_exactly_as_documented(sample):
    _, summary, _, kinds, records = sample
    assert {k: kinds[k] for k in MALFORMED_COUNTS} == MALFORMED_COUNTS == summary.malformed
    assert kinds["ok"] == len(records)
    assert 0.001 < sum(MALFORMED_COUNTS.values()) / summary.lines < 0.004


def test_multi_turn_history_outcomes_and_responses_replay(sample):
    _, _, _, _, records = sample
    sessions: dict[str, list[dict]] = {}
    for r in records:
        sessions.setdefault(r["session_id"], []).append(r)
    checked, no_outcome = 0, 0
    for turns in sessions.values():
        turns.sort(key=lambda r: r["turn"])
        if [t["turn"] for t in turns] != list(range(1, len(turns) + 1)):
            continue  # a corrupted line removed a turn
        for prev, cur in zip(turns, turns[1:], strict=False):
            assert cur["messages"][1:-1] == prev["messages"][1:] + [
                {"role": "assistant", "content": prev["response"]}
            ]
        outcomes = [t["user_outcome"] is not None for t in turns]
        no_outcome += not any(outcomes)  # only when a corrupted line was the last turn
        assert outcomes in ([False] * len(turns), [False] * (len(turns) - 1) + [True])
        checked += 1
    assert checked > 4000 and no_outcome <= sum(MALFORMED_COUNTS.values())
    for r in records[::97]:
        if r["status"] == "ok":
            assert r["response"] == respond(r["served_model"], r["messages"]).text
            assert r["messages"][-1]["role"] == "user" and r["messages"][0]["role"] == "system"
    qa = by(records, task_type="qa_with_sources")
    assert all(
        r["retrieved_sources"] and all(s in r["messages"][0]["content"] for s in r["retrieved_sources"])
        for r in qa
    )


def test_error_records(sample):
    _, summary, _, _, records = sample
    errors = by(records, status="error")
    assert 5 <= len(errors) == summary.error_records <= 60
    assert all(r["response"] is None and "RateLimitError" in r["error"] and r["user_outcome"] for r in errors)


def test_routing_shift_from_day_10_visible_in_raw_files(sample):
    _, _, _, _, records = sample
    code = by(records, task_type="code")
    before = [r for r in code if r["_day"] < world.P2_SHIFT_DAY]
    after = [r for r in code if r["_day"] >= world.P2_SHIFT_DAY]
    assert share([r["routing_path"] == "fallback" for r in before]) < 0.10
    assert 0.33 <= share([r["routing_path"] == "fallback" for r in after]) <= 0.47
    assert {r["route_reason"] for r in code if r["routing_path"] == "fallback"} == {"classifier_overflow"}
    primary_bound = [
        r
        for r in records
        if r["task_type"] in ("qa_with_sources", "prohibited", "small_talk")
        and r["routing_path"] != "experimental"
    ]
    assert 0.12 <= share([r["route_reason"] == "rate_limit_fallback" for r in primary_bound]) <= 0.18


def test_experimental_path_under_one_percent(sample):
    _, _, _, _, records = sample
    assert 0 < share([r["routing_path"] == "experimental" for r in records]) < 0.01


def test_p1_fallback_cites_invalid_sources_far_more_often(sample):
    _, _, _, _, records = sample

    def invalid(r: dict) -> bool:
        return any(c.rstrip(".") not in r["retrieved_sources"] for c in CITED.findall(r["response"]))

    qa = by(by(records, task_type="qa_with_sources"), status="ok")
    fallback = [invalid(r) for r in by(qa, routing_path="fallback")]
    primary = [invalid(r) for r in by(qa, routing_path="primary")]
    assert len(fallback) > 300 and len(primary) > 2000
    assert 0.36 <= share(fallback) <= 0.54
    assert share(primary) < 0.06


def test_p2_fallback_tone_drops_from_day_10_through_the_mix(sample):
    _, _, _, _, records = sample
    fallback = by(by(records, routing_path="fallback"), status="ok")

    def tone_fail(rows: list[dict]) -> float:
        return share([bool(TONE.search(r["response"])) for r in rows])

    before = [r for r in fallback if r["_day"] < world.P2_SHIFT_DAY]
    after = [r for r in fallback if r["_day"] >= world.P2_SHIFT_DAY]
    assert tone_fail(after) - tone_fail(before) > 0.12
    for task in ("code", "qa_with_sources"):  # within a task type the rate holds
        assert abs(tone_fail(by(before, task_type=task)) - tone_fail(by(after, task_type=task))) < 0.15
    for path in ("primary", "code", "reasoning"):
        assert tone_fail(by(by(records, routing_path=path), status="ok")) < 0.03


def test_p5_refusals_and_outcomes(sample):
    _, _, _, _, records = sample
    prohibited = by(by(records, task_type="prohibited"), status="ok")
    assert 0.94 <= share([bool(REFUSAL.search(r["response"])) for r in prohibited]) <= 0.995
    assert not any(
        REFUSAL.search(r["response"]) for r in by(by(records, task_type="small_talk"), status="ok")
    )
    last = [r for r in records if r["user_outcome"] and r["status"] == "ok"]
    failed = [r for r in last if TONE.search(r["response"]) or world.POOR_QUALITY_MARKER in r["response"]]
    clean = [r for r in last if r not in failed and r["task_type"] in ("small_talk", "reasoning")]
    bad = lambda rows: share([r["user_outcome"] != "resolved" for r in rows])  # noqa: E731
    assert bad(failed) > 0.6 and bad(clean) < 0.25


def test_pii_is_sprinkled(sample):
    _, _, _, _, records = sample
    prompts = " ".join(r["messages"][-1]["content"] for r in records)
    assert re.search(r"[\w.]+@example\.com", prompts)
    assert re.search(r"\+1 415 555 \d{4}", prompts)
    assert re.search(r"\bsk-[0-9a-f]{32}\b", prompts)
    assert re.search(r"\b203\.0\.113\.\d{1,3}\b", prompts)
    cards = re.findall(r"\b(?:\d{4} ){3}\d{4}\b", prompts)
    assert cards

    def luhn(number: str) -> bool:
        digits = [int(c) for c in number if c.isdigit()][::-1]
        return (
            sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)) % 10
            == 0
        )

    assert all(luhn(c) for c in cards)


def test_labels_and_golden_read_by_the_platform_readers(sample):
    root, summary, _, _, records = sample
    flags = read_expert_flags(root / "labels")
    by_session = flags.filter(flags["session_id"].is_not_null())
    by_record = flags.filter(flags["record_id"].is_not_null())
    assert len(by_session) >= 3 and len(by_record) >= 3 and len(flags) == summary.expert_flags
    ids = {r["request_id"] for r in records}
    assert set(by_session["session_id"]) <= {r["session_id"] for r in records}
    assert set(by_record["record_id"]) <= ids
    overrides = read_overrides(root / "labels")
    assert len(overrides) == summary.overrides == 5 and set(overrides["record_id"]) <= ids
    borderline = overrides.filter(overrides["should_refuse"] == False)  # noqa: E712
    assert len(borderline) == 3
    golden = read_golden(root / "golden")
    assert len(golden) == 12 == summary.golden_items
    assert set(golden["routing_path"]) <= set(world.PATH_MODELS)
    assert golden["should_refuse"].null_count() == 0 and golden["needs_citation"].null_count() == 0


def test_sample_command_summary(tmp_path):
    text = sample_command(tmp_path, days=2, seed=3)
    assert "2 day(s)" in text and "malformed lines" in text and "primary" in text
    assert len(list((tmp_path / "landing" / "native").glob("*.jsonl"))) == 2


def test_rerun_with_fewer_days_removes_only_its_own_stale_day_files(tmp_path):
    native = tmp_path / "landing" / "native"
    write_sample(tmp_path, days=4, sessions_per_day=20)
    keep = [native / "notes.jsonl", native / "2026-13-40.jsonl", native / "sub" / "2026-11-19.jsonl"]
    for path in keep:  # not a calendar day, not day-named, or in a subfolder: never ours to delete
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    summary = write_sample(tmp_path, days=2, sessions_per_day=20)
    ours = lambda: sorted(p.name for p in native.glob("2026-11-*.jsonl"))  # noqa: E731
    assert ours() == ["2026-11-16.jsonl", "2026-11-17.jsonl"]
    assert [p.name for p in summary.removed] == ["2026-11-18.jsonl", "2026-11-19.jsonl"]
    assert all(p.exists() for p in keep)
    fresh = write_sample(tmp_path / "fresh", days=2, sessions_per_day=20)
    assert [p.read_bytes() for p in summary.files] == [p.read_bytes() for p in fresh.files]
    assert fresh.removed == () and "removed" not in sample_command(tmp_path / "fresh", days=2, seed=7)
    assert "removed 1 day file(s)" in sample_command(tmp_path, days=1, seed=7)
    assert ours() == ["2026-11-16.jsonl"] and all(p.exists() for p in keep)
