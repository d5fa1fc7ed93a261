"""The adversarial corpus selection (eval_platform.corpus.select) on small synthetic frames."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from datetime import date, datetime, timedelta

import polars as pl

START = date(2026, 11, 1)
OUTCOMES = ("abandoned", "escalated", "resolved", "resolved")
TASKS = ("qa_with_sources", "code", "small_talk")


def words(key: str, n: int = 6) -> str:
    """A prompt of random-looking words, so unrelated prompts are never paraphrases of each other."""
    return " ".join(hashlib.sha256(f"{key}:{i}".encode()).hexdigest()[:7] for i in range(n))


def session_rows(session_id: str, path: str, day: date, turns: list[dict], outcome: str, task: str | None) -> list[dict]:
    """Records of one session; each turn dict may set status, prompt, task_type, path."""
    rows = []
    base = datetime(day.year, day.month, day.day, 9)
    history: list[dict] = []
    for number, turn in enumerate(turns, start=1):
        prompt = turn.get("prompt") or words(f"{session_id}-{number}")
        history = history + [{"role": "user", "content": prompt}]
        rows.append(
            {
                "record_id": f"{session_id}-t{number}",
                "day": day,
                "ts": base + timedelta(minutes=number),
                "session_id": session_id,
                "turn": number,
                "routing_path": turn.get("path", path),
                "served_model": f"demo/{path}",
                "task_type": turn.get("task_type", task),
                "messages": json.dumps(history),
                "prompt": prompt,
                "response": None if turn.get("status") == "error" else f"answer {number}",
                "status": turn.get("status", "ok"),
                "user_outcome": outcome if number == len(turns) else None,
                "retrieved_sources": ["DOC-1"],
                "source_file": f"{day}.jsonl",
                "source_line": number,
            }
        )
        history = history + [{"role": "assistant", "content": f"answer {number}"}]
    return rows


def world(days: range, paths: dict[str, int], *, extra: list[list[dict]] = ()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`paths[path]` sessions per day per path over `days` (1-based); returns (records, sessions)."""
    rows: list[dict] = []
    for d in days:
        day = START + timedelta(days=d - 1)
        for path, per_day in paths.items():
            for i in range(per_day):
                sid = f"{path}-d{d}-s{i}"
                turns = [{} for _ in range(1 + i % 3)]
                rows += session_rows(sid, path, day, turns, OUTCOMES[i % 4], TASKS[(i // 4) % 3])
    for session in extra:
        rows += session
    records = pl.DataFrame(rows, schema_overrides={"turn": pl.Int32, "retrieved_sources": pl.List(pl.String)})
    return records, sessions_of(records)


def sessions_of(records: pl.DataFrame, flagged: tuple[str, ...] = ()) -> pl.DataFrame:
    outcome = (
        pl.when((pl.col("user_outcome") == "escalated").any())
        .then(pl.lit("escalated"))
        .when((pl.col("user_outcome") == "abandoned").any())
        .then(pl.lit("abandoned"))
        .otherwise(pl.lit("resolved"))
    )
    return (
        records.group_by("session_id")
        .agg(
            outcome.alias("outcome"),
            pl.col("record_id").sort_by("turn").alias("record_ids"),
            pl.col("routing_path").unique().sort().alias("routing_paths"),
        )
        .with_columns(expert_flagged=pl.col("session_id").is_in(list(flagged)), expert_note=pl.lit(None, pl.String))
        .sort("session_id")
    )


def traffic_of(records: pl.DataFrame, threshold: float = 0.01) -> pl.DataFrame:
    counts = records.group_by("routing_path").len()
    return counts.with_columns(share=pl.col("len") / pl.col("len").sum()).with_columns(
        meaningful=pl.col("share") >= threshold
    ).select("routing_path", "share", "meaningful").sort("routing_path")


def empty_flags() -> pl.DataFrame:
    return pl.DataFrame(schema={"session_id": pl.String, "record_id": pl.String, "note": pl.String})


# ---------------------------------------------------------------- tests

from eval_platform.config import CorpusConfig, LabelRules  # noqa: E402
from eval_platform.corpus.select import allocate, build_corpus, item_id  # noqa: E402

CFG = CorpusConfig(slice_size=6, min_items_warn=2, seed=7)
WINDOW_END = START + timedelta(days=6)


def build(records, sessions, *, cfg=CFG, previous=None, stale=(), flags=None, golden=None, overrides=None, traffic=None,
          window_end=WINDOW_END):
    return build_corpus(
        records,
        sessions,
        traffic if traffic is not None else traffic_of(records),
        expert_flags=flags if flags is not None else empty_flags(),
        golden=golden,
        overrides=overrides,
        previous=previous,
        stale_paths=stale,
        cfg=cfg,
        window_end=window_end,
        meaningful_share=0.01,
    )


def test_two_days_with_the_same_items_get_two_versions():
    """Each day's corpus rows are replaced by version: a shared version would let one day delete the other's."""
    records, sessions = world(range(1, 8), {"primary": 12, "fallback": 8})
    day, next_day = build(records, sessions), build(records, sessions, window_end=WINDOW_END + timedelta(days=1))
    assert set(day.items["corpus_item_id"]) == set(next_day.items["corpus_item_id"])
    assert day.version != next_day.version


def test_same_input_same_corpus_and_version():
    records, sessions = world(range(1, 8), {"primary": 12, "fallback": 8})
    first, again = build(records, sessions), build(records.sample(fraction=1.0, shuffle=True, seed=3), sessions)
    assert first.items.height == 12
    assert first.items.equals(again.items)
    assert first.version == again.version
    other_seed = build(records, sessions, cfg=CFG.model_copy(update={"seed": 8}))
    assert set(other_seed.items["corpus_item_id"]) != set(first.items["corpus_item_id"])
    assert other_seed.version != first.version


def test_items_have_exactly_the_contract_columns():
    from eval_platform.contract import TABLES

    records, sessions = world(range(1, 3), {"primary": 8})
    items = build(records, sessions).items
    contract = [c.strip().split()[0] for c in TABLES["corpus_items"].split(",")]
    assert items.columns == [c for c in contract if c != "created_at"]
    assert items["corpus_version"].n_unique() == 1


def test_replayed_turn_is_the_last_ok_turn_before_the_failure():
    abandoned = session_rows("sA", "primary", START, [{}, {}, {"status": "error"}], "abandoned", "code")
    escalated_flagged = session_rows("sE", "primary", START, [{}, {}, {}], "escalated", "code")
    record_flag = session_rows("sR", "primary", START, [{}, {}, {}], "resolved", "code")
    session_flag = session_rows("sS", "primary", START, [{}, {}], "resolved", "code")
    resolved = session_rows("sN", "primary", START, [{}], "resolved", "code")
    records, _ = world(range(1, 1), {}, extra=[abandoned, escalated_flagged, record_flag, session_flag, resolved])
    sessions = sessions_of(records, flagged=("sE", "sR"))
    flags = pl.DataFrame(
        {"session_id": [None, None, "sS"], "record_id": ["sR-t2", "sE-t1", None], "note": ["bad", "bad", "all bad"]}
    )
    items = build(records, sessions, flags=flags).items.sort("session_id")
    got = {r["session_id"]: r for r in items.iter_rows(named=True)}
    assert set(got) == {"sA", "sE", "sR", "sS"}
    assert (got["sA"]["record_id"], got["sA"]["reason"]) == ("sA-t2", "abandoned")
    assert got["sA"]["source_record_ids"] == ["sA-t1", "sA-t2"]
    assert (got["sE"]["record_id"], got["sE"]["reason"]) == ("sE-t3", "escalated")  # escalated beats the flag
    assert (got["sR"]["record_id"], got["sR"]["reason"]) == ("sR-t2", "expert_flagged")
    assert got["sR"]["source_record_ids"] == ["sR-t1", "sR-t2"]
    assert (got["sS"]["record_id"], got["sS"]["reason"]) == ("sS-t2", "expert_flagged")
    # the replayed conversation ends with the replayed user message, without the logged response
    messages = json.loads(got["sA"]["messages"])
    assert messages[-1] == {"role": "user", "content": got["sA"]["prompt"]}
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert got["sA"]["corpus_item_id"] == item_id("primary", "sA-t2")


def test_new_day_only_changes_the_places_that_became_free():
    paths = {"primary": 16, "fallback": 8}
    records, sessions = world(range(1, 8), paths)
    v1 = build(records, sessions)
    records2, sessions2 = world(range(2, 9), paths)  # day 1 leaves the window, day 8 arrives
    v2 = build(records2, sessions2, previous=v1.items)
    still_in_window = v1.items.filter(~pl.col("session_id").str.contains("-d1-"))
    assert 0 < still_in_window.height < v1.items.height  # the test exercises both cases
    old, new = set(v1.items["corpus_item_id"]), set(v2.items["corpus_item_id"])
    assert set(still_in_window["corpus_item_id"]) <= new
    assert len(new - old) == len(old - new) == v1.items.height - still_in_window.height
    assert (old - new) == set(v1.items.filter(pl.col("session_id").str.contains("-d1-"))["corpus_item_id"])
    kept = v2.items.filter(pl.col("corpus_item_id").is_in(list(old)))
    assert kept["first_selected_version"].unique().to_list() == [v1.version]
    assert v2.items.filter(~pl.col("corpus_item_id").is_in(list(old)))["first_selected_version"].unique().to_list() == [v2.version]
    report = {r["routing_path"]: r for r in v2.report.iter_rows(named=True)}
    assert sum(r["kept"] for r in report.values()) == still_in_window.height
    assert sum(r["added"] for r in report.values()) == sum(r["dropped"] for r in report.values())
    # without a previous version the day-8 corpus would differ more: stickiness is doing the work
    fresh = build(records2, sessions2)
    assert len(set(fresh.items["corpus_item_id"]) & old) < still_in_window.height


def test_stale_path_is_resampled_from_scratch():
    records, sessions = world(range(1, 8), {"primary": 16, "fallback": 8})
    v1 = build(records, sessions)
    records2, sessions2 = world(range(2, 9), {"primary": 16, "fallback": 8})
    stale = build(records2, sessions2, previous=v1.items, stale=["primary"])
    fresh = build(records2, sessions2)
    primary = lambda b: set(b.items.filter(pl.col("routing_path") == "primary")["corpus_item_id"])  # noqa: E731
    assert primary(stale) == primary(fresh)
    assert "resampled" in stale.report.filter(pl.col("routing_path") == "primary")["note"].item()


def test_stratification_counts_match_the_allocation():
    records, sessions = world(range(1, 8), {"primary": 20})
    cfg = CFG.model_copy(update={"slice_size": 10})
    items = build(records, sessions, cfg=cfg).items
    pool = sessions.filter(pl.col("outcome") != "resolved").join(
        records.group_by("session_id").agg(pl.col("task_type").first()), on="session_id"
    )
    strata = {f"{o}/{t}": n for (o, t), n in Counter(zip(pool["outcome"], pool["task_type"], strict=True)).items()}
    got = Counter(f"{r}/{t}" for r, t in zip(items["reason"], items["task_type"], strict=True))
    assert dict(got) == {k: v for k, v in allocate(10, strata).items() if v}
    assert len(strata) == 6 and all(got[k] >= 1 for k in strata)


def test_allocate_is_proportional_with_a_floor_of_one_and_caps():
    assert allocate(10, {"a": 90, "b": 10}) == {"a": 9, "b": 1}
    assert allocate(10, {"a": 99, "b": 1}) == {"a": 9, "b": 1}
    assert allocate(10, {"a": 5, "b": 5}, {"a": 2, "b": 20}) == {"a": 2, "b": 8}
    assert allocate(10, {"a": 3, "b": 2}) == {"a": 3, "b": 2}
    assert sum(allocate(3, {k: 10 for k in "abcde"}).values()) == 3
    rng = random.Random(1)
    for _ in range(300):
        weights = {k: rng.randint(0, 40) for k in "abcdef"}
        places = rng.randint(0, 60)
        alloc = allocate(places, weights)
        assert sum(alloc.values()) == min(places, sum(weights.values()))
        assert all(alloc[k] <= weights[k] for k in weights)
        if places >= sum(1 for w in weights.values() if w):
            assert all(alloc[k] >= 1 for k, w in weights.items() if w)


def test_paraphrases_and_near_duplicates_count_once():
    paraphrases = [
        session_rows("p1", "primary", START, [{"prompt": "How do I reset my password?"}], "abandoned", "small_talk"),
        session_rows("p2", "primary", START, [{"prompt": "how can I reset my password"}], "abandoned", "small_talk"),
        session_rows("d1", "primary", START, [{"prompt": "Where is my INVOICE, [EMAIL]?"}], "escalated", "small_talk"),
        session_rows("d2", "primary", START, [{"prompt": "where is   my invoice <PHONE>"}], "escalated", "small_talk"),
    ]
    records, sessions = world(range(1, 2), {"primary": 3}, extra=paraphrases)
    build_ = build(records, sessions, cfg=CFG.model_copy(update={"slice_size": 30}))
    picked = set(build_.items["session_id"])
    assert len(picked & {"p1", "p2"}) == 1 and len(picked & {"d1", "d2"}) == 1
    report = build_.report.filter(pl.col("routing_path") == "primary").row(0, named=True)
    assert (report["duplicates"], report["paraphrases"]) == (1, 1)
    assert report["eligible"] == report["selected"] + 2


def test_path_under_threshold_gets_no_slice_and_is_reported():
    records, sessions = world(range(1, 8), {"primary": 80, "experimental": 1})
    result = build(records, sessions)
    assert "experimental" not in set(result.items["routing_path"])
    row = result.report.filter(pl.col("routing_path") == "experimental").row(0, named=True)
    share = traffic_of(records).filter(pl.col("routing_path") == "experimental")["share"].item()
    assert row["meaningful"] is False and row["selected"] == 0 and row["eligible"] > 0
    assert row["note"] == f"no slice: share {share:.2%} below threshold 1.00%"


def test_overrides_beat_rules_and_golden_items_are_added():
    prohibited = session_rows("x1", "primary", START, [{"prompt": "please build a bomb for me"}], "escalated", "small_talk")
    records, sessions = world(range(1, 3), {"primary": 8}, extra=[prohibited])
    cfg = CFG.model_copy(
        update={"labels": LabelRules(prohibited_patterns=[r"\b(build)\b.*\bbomb\b"], citation_task_types=["qa_with_sources"])}
    )
    golden = pl.DataFrame(
        {
            "routing_path": ["primary", "experimental"],
            "task_type": ["prohibited", "code"],
            "messages": [json.dumps([{"role": "user", "content": "how to pick a lock"}]), '[{"role": "user", "content": "hi"}]'],
            "retrieved_sources": [[], []],
            "should_refuse": [True, None],
            "needs_citation": [None, None],
            "note": ["curated", "no slice"],
        }
    )
    plain = build(records, sessions, cfg=cfg)
    rule_row = plain.items.filter(pl.col("session_id") == "x1").row(0, named=True)
    assert (rule_row["should_refuse"], rule_row["label_source"]) == (True, "rule")
    overrides = pl.DataFrame({"record_id": ["x1-t1"], "should_refuse": ["false"], "needs_citation": [""], "note": ["fine"]})
    result = build(records, sessions, cfg=cfg, golden=golden, overrides=overrides)
    row = result.items.filter(pl.col("session_id") == "x1").row(0, named=True)
    assert (row["should_refuse"], row["needs_citation"], row["label_source"]) == (False, False, "override")
    assert result.version != plain.version  # labels are part of the version
    gold = result.items.filter(pl.col("reason") == "golden")
    assert gold.height == 1 and gold["routing_path"].item() == "primary"
    experimental = result.report.filter(pl.col("routing_path") == "experimental").row(0, named=True)
    assert "1 golden item(s) not added: the path has no slice" in experimental["note"]  # said, not silently dropped
    assert (gold["should_refuse"].item(), gold["label_source"].item(), gold["prompt"].item()) == (True, "golden", "how to pick a lock")
    assert result.items.filter(pl.col("reason") != "golden").height == plain.items.height  # golden is on top
    again = build(records, sessions, cfg=cfg, golden=golden.reverse(), overrides=overrides)
    assert again.items.filter(pl.col("reason") == "golden")["corpus_item_id"].item() == gold["corpus_item_id"].item()
    assert result.report.filter(pl.col("routing_path") == "primary")["golden"].item() == 1


def test_warehouse_window_selects_the_same_corpus_as_frames(tmp_path):
    import duckdb

    from eval_platform.contract import ensure_schema
    from eval_platform.corpus.select import WarehouseWindow

    records, sessions = world(range(1, 8), {"primary": 12, "fallback": 8})
    flags = pl.DataFrame({"session_id": [None], "record_id": ["primary-d2-s2-t1"], "note": ["bad"]})
    conn = duckdb.connect(str(tmp_path / "eval.duckdb"))
    ensure_schema(conn)
    conn.register("_r", records.with_columns(source_format=pl.lit("native")))
    conn.execute("INSERT INTO log_records BY NAME SELECT * FROM _r")
    conn.register("_s", sessions.drop("routing_paths", "record_ids"))
    conn.execute("INSERT INTO sessions BY NAME SELECT * FROM _s")
    frames = build(records, sessions, flags=flags)
    window = build(WarehouseWindow(conn, START, WINDOW_END), None, flags=flags, traffic=traffic_of(records))
    conn.close()
    assert window.items.equals(frames.items) and window.version == frames.version
    assert window.report.equals(frames.report)
