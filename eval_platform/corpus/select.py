"""The adversarial corpus: up to `slice_size` failing sessions per meaningful routing path.

Rules (documented in the README, "Adversarial corpus"):
- Eligible sessions are escalated, abandoned or expert-flagged (by session id or by record id). Each
  eligible session yields one item. Its reason follows the precedence escalated > abandoned >
  expert_flagged: the user's own verdict is the strongest failure signal, an expert's is the rarest.
- The replayed turn is the last user turn before the failure signal: for an escalated, abandoned or
  session-flagged session its last turn with status ok (highest turn, then latest ts); for a
  record-level expert flag that record (the latest flagged one if several).
- Only paths whose routing_traffic row says meaningful get a slice; the others are reported.
- Selection is deterministic from the seed: items are ordered by sha256("{seed}:{corpus_item_id}").
  Near-duplicate prompts (equal normalised text) count once; places are split across (reason,
  task_type) strata in proportion to the path's pool (largest remainder, at least one per stratum while
  places remain); within a stratum items are taken in seed order, skipping paraphrases of items already
  in the slice.
- Versions are sticky: a previous item still eligible in the window stays (unless its path is stale);
  new items only fill the free places, stratified towards the pool's allocation given what is kept.
- Golden items (reason "golden") are added to their path's slice on top of `slice_size`.

The heavy work (eligibility, last ok turn per session, item ids, seed order) is one DuckDB query, run
in place on the warehouse (`WarehouseWindow`) or on polars frames registered in an in-memory DuckDB;
only the eligible pool reaches polars, only the rows selection looks at reach Python, and histories and
message bodies are read for the selected items only (bodies by row address, so only those rows are read).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from eval_platform.config import CorpusConfig
from eval_platform.corpus.dedupe import ParaphraseFilter, normalised_prompt
from eval_platform.corpus.labels import golden_labels, label_items

Frame = pl.DataFrame | pl.LazyFrame

# Columns of log_records that selection reads for every record, and those read for selected items only.
RECORD_COLUMNS = ("record_id", "ts", "session_id", "turn", "routing_path", "task_type", "status", "prompt")
ITEM_RECORD_COLUMNS = ("record_id", "messages", "retrieved_sources")

ITEM_SCHEMA: dict[str, pl.DataType] = {
    "corpus_item_id": pl.String(),
    "corpus_version": pl.String(),
    "window_end": pl.Date(),
    "routing_path": pl.String(),
    "session_id": pl.String(),
    "record_id": pl.String(),
    "source_record_ids": pl.List(pl.String()),
    "reason": pl.String(),
    "task_type": pl.String(),
    "messages": pl.String(),
    "prompt": pl.String(),
    "retrieved_sources": pl.List(pl.String()),
    "should_refuse": pl.Boolean(),
    "needs_citation": pl.Boolean(),
    "label_source": pl.String(),
    "first_selected_version": pl.String(),
}
REPORT_SCHEMA: dict[str, pl.DataType] = {
    "routing_path": pl.String(),
    "meaningful": pl.Boolean(),
    "share": pl.Float64(),
    "eligible": pl.Int64(),
    "duplicates": pl.Int64(),
    "paraphrases": pl.Int64(),
    "selected": pl.Int64(),
    "golden": pl.Int64(),
    "kept": pl.Int64(),
    "added": pl.Int64(),
    "dropped": pl.Int64(),
    "by_reason": pl.String(),
    "by_task_type": pl.String(),
    "note": pl.String(),
}


@dataclass(frozen=True)
class CorpusBuild:
    items: pl.DataFrame  # ITEM_SCHEMA: the corpus_items columns except created_at
    version: str
    report: pl.DataFrame  # REPORT_SCHEMA: one row per routing path


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def item_id(routing_path: str, record_id: str) -> str:
    """Stable id of a sampled item: the same replayed record on the same path is the same item.
    (The pool query computes the same value in SQL; a test holds them equal.)"""
    return _sha(f"item\x1f{routing_path}\x1f{record_id}")[:32]


def order_key(seed: int, corpus_item_id: str) -> str:
    """The item's place in the seed's deterministic order (independent of any RNG state)."""
    return _sha(f"{seed}:{corpus_item_id}")


# ---------------------------------------------------------------- allocation


def _largest_remainder(places: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split `places` in proportion to `weights`; then give every stratum one place while others have spare."""
    keys = sorted(weights)
    total = float(sum(weights.values()))
    quota = {k: places * weights[k] / total for k in keys}
    alloc = {k: int(quota[k]) for k in keys}
    by_remainder = sorted(keys, key=lambda k: (-(quota[k] - alloc[k]), k))
    for k in by_remainder[: places - sum(alloc.values())]:
        alloc[k] += 1
    for k in sorted((k for k in keys if alloc[k] == 0), key=lambda k: (-quota[k], k)):
        donors = [d for d in keys if alloc[d] > 1]
        if not donors:
            break  # fewer places than strata: the largest strata keep theirs
        donor = max(donors, key=lambda d: (alloc[d] - quota[d], alloc[d], d))
        alloc[donor] -= 1
        alloc[k] = 1
    return alloc


def allocate(places: int, weights: Mapping[str, float], capacity: Mapping[str, int] | None = None) -> dict[str, int]:
    """Places per stratum: proportional to `weights` (largest remainder, at least one per non-empty
    stratum while places remain), never above `capacity` (default: the weights); places a full stratum
    cannot take go to the others. Strata with zero weight only get places once the others are full."""
    capacity = dict(weights) if capacity is None else dict(capacity)
    alloc = {k: 0 for k in capacity}
    total = min(places, sum(capacity.values()))
    while (left := total - sum(alloc.values())) > 0:
        open_ = [k for k in sorted(capacity) if alloc[k] < capacity[k]]
        share_weights = {k: weights.get(k, 0) for k in open_ if weights.get(k, 0) > 0}
        share_weights = share_weights or {k: capacity[k] - alloc[k] for k in open_}
        for k, n in _largest_remainder(left, share_weights).items():
            alloc[k] += min(n, capacity[k] - alloc[k])
    return alloc


# ---------------------------------------------------------------- eligibility


# The eligible pool, one row per eligible session, in DuckDB SQL over `_records` (with `_row`, the row's
# address), `_sessions` and `_flags` (defined by the caller's CTEs); `$seed` orders items. Item ids match
# `item_id` / `order_key`. Candidates are ranked 2*precedence + specific: a session's own signal replays its
# ok turns (escalated 1, abandoned 3, session-level expert flag 5); a flagged record outranks the
# session-level expert flag (4), which is why a record flag makes the session's expert_flagged bool moot.
_POOL_SQL = """
WITH {sources},
session_rank AS (
    SELECT session_id, CASE outcome WHEN 'escalated' THEN 0 WHEN 'abandoned' THEN 1 ELSE 2 END AS rank FROM _sessions
    WHERE outcome IN ('escalated', 'abandoned') OR coalesce(expert_flagged, false)
       OR session_id IN (SELECT session_id FROM _flags WHERE record_id IS NULL AND session_id IS NOT NULL)
),
candidates AS (
    SELECT r._row, r.record_id, r.ts, r.session_id, r.turn, r.routing_path, r.task_type, r.prompt, 2 * s.rank + 1 AS rank
    FROM _records r JOIN session_rank s ON s.session_id = r.session_id
    WHERE r.status = 'ok'
    UNION ALL
    -- find flagged rows on the id column alone, then read only those rows
    SELECT _row, record_id, ts, session_id, turn, routing_path, task_type, prompt, 4 AS rank FROM _records
    WHERE _row IN (SELECT _row FROM _records WHERE record_id IN (SELECT record_id FROM _flags WHERE record_id IS NOT NULL))
),
chosen AS (  -- per session: best rank, then highest turn, latest ts, highest record_id
    SELECT unnest(arg_max(c, (-c.rank, c.turn_n, c.ts, c.record_id)))
    FROM (SELECT *, coalesce(turn, 0) AS turn_n FROM candidates) c GROUP BY c.session_id
),
items AS (
    SELECT session_id, record_id, routing_path, task_type,
        ['escalated', 'abandoned', 'expert_flagged'][rank // 2 + 1] AS reason, prompt, turn_n, ts, _row,
        substr(sha256(concat('item', chr(31), routing_path, chr(31), record_id)), 1, 32) AS corpus_item_id
    FROM chosen
)
SELECT *, sha256(concat($seed, ':', corpus_item_id)) AS _order FROM items
"""
_FRAME_SOURCES = (
    "_records AS NOT MATERIALIZED (SELECT * FROM _records_in), "
    "_sessions AS (SELECT * FROM _sessions_in), _flags AS (SELECT * FROM _flags_in)"
)
# `_row` is DuckDB's rowid: filters on it read just those rows, so message bodies are read for chosen items only
_WAREHOUSE_SOURCES = (
    "_records AS NOT MATERIALIZED (SELECT rowid AS _row, * FROM log_records WHERE day BETWEEN $start AND $end), "
    "_sessions AS (SELECT session_id, outcome, expert_flagged FROM sessions), _flags AS (SELECT * FROM _flags_in)"
)


# For the chosen items only: the records up to the replayed turn, and the replayed record's body.
_DETAIL_SQL = """
WITH {sources},
mine AS (
    SELECT record_id, session_id, coalesce(turn, 0) AS turn_n, ts FROM _records
    WHERE session_id IN (SELECT session_id FROM _chosen_in)
),
hist AS (
    SELECT c._row, list(r.record_id ORDER BY r.turn_n, r.ts, r.record_id) AS source_record_ids
    FROM _chosen_in c JOIN mine r ON r.session_id = c.session_id
     AND (r.turn_n < c.turn_n OR (r.turn_n = c.turn_n AND r.ts <= c.ts))
    GROUP BY c._row
)
SELECT r.record_id, CAST(r.messages AS VARCHAR) AS messages, r.retrieved_sources, h.source_record_ids
FROM _records r JOIN hist h ON h._row = r._row
WHERE r._row IN (SELECT _row FROM _chosen_in)
"""


@dataclass(frozen=True)
class WarehouseWindow:
    """log_records (days start..end) and sessions read in place from the warehouse, not copied to polars."""

    conn: duckdb.DuckDBPyConnection
    start: date
    end: date


def _flags_frame(expert_flags: pl.DataFrame | None) -> pl.DataFrame:
    schema = {"session_id": pl.String, "record_id": pl.String}
    if expert_flags is None or expert_flags.height == 0:
        return pl.DataFrame(schema=schema)
    return expert_flags.select(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(c) for c in schema]
    )


@contextmanager
def _duck(records: Frame | WarehouseWindow, sessions: Frame | None, expert_flags: pl.DataFrame | None):
    """A DuckDB connection where `{sources}` defines _records, _sessions and _flags, with its parameters."""
    flags = _flags_frame(expert_flags)
    if isinstance(records, WarehouseWindow):
        conn = records.conn
        conn.register("_flags_in", flags)
        try:
            yield conn, _WAREHOUSE_SOURCES, {"start": records.start, "end": records.end}
        finally:
            conn.unregister("_flags_in")
        return
    with duckdb.connect() as conn:
        columns = list(dict.fromkeys(RECORD_COLUMNS + ITEM_RECORD_COLUMNS))
        conn.register("_records_in", records.lazy().select(columns).with_row_index("_row").collect())
        conn.register("_sessions_in", sessions.lazy().select("session_id", "outcome", "expert_flagged").collect())
        conn.register("_flags_in", flags)
        yield conn, _FRAME_SOURCES, {}


def eligible_pool(conn: duckdb.DuckDBPyConnection, sources: str, params: dict, seed: int) -> pl.DataFrame:
    """One row per eligible session: the replayed record, its reason, its item id and seed order."""
    return conn.sql(_POOL_SQL.format(sources=sources), params={**params, "seed": str(seed)}).pl()


def _details(conn: duckdb.DuckDBPyConnection, sources: str, params: dict, chosen: pl.DataFrame) -> pl.DataFrame:
    conn.register("_chosen_in", chosen.select("session_id", "record_id", "turn_n", "ts", "_row"))
    try:
        details = conn.sql(_DETAIL_SQL.format(sources=sources), params=params).pl()
    finally:
        conn.unregister("_chosen_in")
    # rows are fetched by address: a write between the two queries would move them
    if missing := set(chosen["record_id"].to_list()) - set(details["record_id"].to_list()):
        raise RuntimeError(f"log_records changed while the corpus was selected (e.g. record {min(missing)!r}); rerun the build")
    return details


# ---------------------------------------------------------------- selection


def _stream(frame: pl.DataFrame, *columns: str) -> Iterator[tuple]:
    """Tuples of a frame's `columns`, converted a few rows at a time (most rows are never looked at)."""
    series = [frame[c] for c in columns]
    for offset in range(0, frame.height, 64):
        yield from zip(*(s.slice(offset, 64).to_list() for s in series), strict=True)


def _select_path(
    sticky: pl.DataFrame, fresh: dict[str, pl.DataFrame], sizes: dict[str, int], slice_size: int, threshold: float
) -> tuple[list[int], int]:
    """Choose one path's items from its deduplicated pool: `sticky` (kept items, in seed order) first, then
    `fresh` (the others by stratum, in seed order) stratified by the pool's stratum `sizes`; returns their `_i`."""
    admitted = ParaphraseFilter(threshold)
    paraphrases = 0
    kept: list[int] = []
    kept_by: Counter[str] = Counter()
    for i, norm, stratum in _stream(sticky, "_i", "_norm", "_stratum"):
        if len(kept) == slice_size:
            break
        if admitted.admit(norm):
            kept.append(i)
            kept_by[stratum] += 1
        else:
            paraphrases += 1
    target = allocate(slice_size, sizes)
    wanted = {s: max(0, n - kept_by[s]) for s, n in target.items()}
    streams = {stratum: _stream(frame, "_i", "_norm") for stratum, frame in fresh.items()}
    unseen = {stratum: frame.height for stratum, frame in fresh.items()}
    added: list[int] = []
    while (free := slice_size - len(kept) - len(added)) > 0 and any(unseen.values()):
        for stratum, places in sorted(allocate(free, wanted, unseen).items()):
            while places > 0 and unseen[stratum]:
                i, norm = next(streams[stratum])
                unseen[stratum] -= 1
                if admitted.admit(norm):
                    added.append(i)
                    wanted[stratum] = max(0, wanted.get(stratum, 0) - 1)
                    places -= 1
                else:
                    paraphrases += 1
    return kept + added, paraphrases


def _golden_items(golden: pl.DataFrame | None, paths: set[str], cfg: CorpusConfig) -> pl.DataFrame:
    """Golden items of sliced paths, with a content id and their curated labels."""
    if golden is None or golden.height == 0:
        return pl.DataFrame(schema={k: v for k, v in ITEM_SCHEMA.items() if k not in ("corpus_version", "window_end", "first_selected_version")})
    rows = []
    for row in golden.iter_rows(named=True):  # a few curated items, checked line by line by labels.read_golden
        messages = json.loads(row["messages"])
        sources = list(row.get("retrieved_sources") or [])
        content = json.dumps([row["routing_path"], row.get("task_type"), messages, sources], sort_keys=True, ensure_ascii=False)
        users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        rows.append(
            {
                "corpus_item_id": _sha("golden\x1f" + content)[:32],
                "routing_path": row["routing_path"],
                "session_id": None,
                "record_id": None,
                "source_record_ids": [],
                "reason": "golden",
                "task_type": row.get("task_type"),
                "messages": json.dumps(messages, ensure_ascii=False),
                "prompt": users[-1] if users else None,
                "retrieved_sources": sources,
                "should_refuse": row.get("should_refuse"),
                "needs_citation": row.get("needs_citation"),
            }
        )
    schema = {k: ITEM_SCHEMA[k] for k in rows[0]}
    frame = pl.DataFrame(rows, schema=schema).filter(pl.col("routing_path").is_in(sorted(paths)))
    return golden_labels(frame.unique("corpus_item_id", keep="first", maintain_order=True), cfg.labels)


def corpus_version(items: pl.DataFrame, window_end: date) -> str:
    """Content hash of the window end, the sorted item ids and their labels: a re-run of a day gets the same
    version; two days that select the same items get two (each day's rows are replaced by version, so a
    shared version would let one day's run delete the other's corpus)."""
    lines = items.select(
        pl.format("{}\t{}\t{}", "corpus_item_id", pl.col("should_refuse").cast(pl.String), pl.col("needs_citation").cast(pl.String))
    ).to_series()
    return _sha(f"{window_end.isoformat()}\n" + "\n".join(sorted(lines.fill_null("").to_list())))[:16]


def _pct(x: float) -> str:
    return f"{x:.2%}"


def build_corpus(
    records: Frame | WarehouseWindow,
    sessions: Frame | None,
    traffic: pl.DataFrame,
    *,
    expert_flags: pl.DataFrame | None,
    golden: pl.DataFrame | None,
    overrides: pl.DataFrame | None,
    previous: pl.DataFrame | None,
    stale_paths: Iterable[str] | None,
    cfg: CorpusConfig,
    window_end: date,
    meaningful_share: float | None = None,
) -> CorpusBuild:
    """Select the corpus for the window ending `window_end` (see the module docstring for the rules).

    `records`/`sessions` are polars frames of the window, or `records` is a `WarehouseWindow` (and
    `sessions` None): then eligibility runs in the warehouse and only the pool reaches polars.

    `meaningful_share` (config traffic.meaningful_share) is only used to word the report's note.
    """
    stale = set(stale_paths or ())
    traffic_rows = {r["routing_path"]: r for r in traffic.select("routing_path", "share", "meaningful").iter_rows(named=True)}
    sliced = {p for p, r in traffic_rows.items() if r["meaningful"]}
    previous = previous if previous is not None and previous.height else None
    prev_ids: dict[str, set[str]] = {}
    prev_first: dict[str, str] = {}
    if previous is not None:
        first = previous["first_selected_version"] if "first_selected_version" in previous.columns else previous["corpus_version"]
        for path, cid, fsv, ver in zip(previous["routing_path"], previous["corpus_item_id"], first, previous["corpus_version"], strict=True):
            prev_ids.setdefault(path, set()).add(cid)
            prev_first[cid] = fsv or ver

    with _duck(records, sessions, expert_flags) as (conn, sources, params):
        pool = eligible_pool(conn, sources, params, cfg.seed)
        chosen, stats, eligible_by_path = _choose(pool, sliced, prev_ids, stale, cfg)
        sampled = _sampled_items(chosen, _details(conn, sources, params, chosen), cfg, overrides)
    gold = _golden_items(golden, sliced, cfg)
    items = pl.concat([sampled, gold.select(sampled.columns)], how="vertical") if gold.height else sampled
    version = corpus_version(items, window_end)
    items = (
        items.with_columns(
            corpus_version=pl.lit(version),
            window_end=pl.lit(window_end, dtype=pl.Date),
            first_selected_version=pl.col("corpus_item_id").replace_strict(prev_first, default=version, return_dtype=pl.String),
            _order=pl.col("corpus_item_id").map_elements(lambda i: order_key(cfg.seed, i), return_dtype=pl.String),
        )
        .sort(["routing_path", "_order"])
        .select(list(ITEM_SCHEMA))
    )
    unsliced_golden = (  # golden items of paths without a slice are not added: the report says so
        dict(golden.filter(~pl.col("routing_path").is_in(sorted(sliced))).group_by("routing_path").len().iter_rows())
        if golden is not None and golden.height else {}
    )
    report = _report(items, traffic_rows, eligible_by_path, stats, prev_ids, stale, cfg, meaningful_share, unsliced_golden)
    return CorpusBuild(items=items.cast(ITEM_SCHEMA), version=version, report=report)


def _choose(
    pool: pl.DataFrame, sliced: set[str], prev_ids: dict[str, set[str]], stale: set[str], cfg: CorpusConfig
) -> tuple[pl.DataFrame, dict[str, dict], dict[str, int]]:
    """Dedupe each sliced path's pool and select its items (kept first, then stratified in seed order)."""
    eligible_by_path = dict(pool.group_by("routing_path").len().iter_rows())
    sticky_ids = sorted(cid for path, cids in prev_ids.items() if path not in stale for cid in cids)
    # kept items first, then seed order; paths need no grouping here (partition_by below keeps this order)
    pool = (
        pool.filter(pl.col("routing_path").is_in(sorted(sliced)))
        .with_columns(
            _norm=normalised_prompt(pl.col("prompt")),
            _stratum=pl.format("{}/{}", "reason", pl.col("task_type").fill_null("-")),
            _kept=pl.col("corpus_item_id").is_in(sticky_ids),
        )
        .sort(["_kept", "_order"], descending=[True, False])
    )
    # near-duplicates count once: the first in (kept, seed) order stands for the others
    dedup_key = pl.when(pl.col("_norm") == "").then(pl.col("record_id")).otherwise(pl.col("_norm"))
    deduped = pool.filter(pl.struct("routing_path", dedup_key.alias("_dedup")).is_first_distinct()).with_row_index("_i")
    pool_sizes = dict(pool.group_by("routing_path").len().iter_rows())

    # split once for all paths, keeping only the columns selection reads
    slim = deduped.select("_i", "routing_path", "_stratum", "_kept", "_norm")
    sizes: dict[str, dict[str, int]] = {}
    for path, stratum, n in slim.group_by("routing_path", "_stratum").len().iter_rows():
        sizes.setdefault(path, {})[stratum] = n
    sticky = slim.filter(pl.col("_kept")).partition_by("routing_path", as_dict=True, maintain_order=True)
    fresh: dict[str, dict[str, pl.DataFrame]] = {}
    others = slim.filter(~pl.col("_kept")).partition_by("routing_path", "_stratum", as_dict=True, maintain_order=True)
    for (path, stratum), frame in others.items():
        fresh.setdefault(path, {})[stratum] = frame

    picked: list[int] = []
    stats: dict[str, dict] = {}
    for path in sorted(sizes):
        path_sticky = sticky.get((path,), slim.clear())
        rows, paraphrases = _select_path(
            path_sticky, fresh.get(path, {}), sizes[path], cfg.slice_size, cfg.paraphrase_similarity
        )
        picked.extend(rows)
        stats[path] = {"duplicates": pool_sizes[path] - sum(sizes[path].values()), "paraphrases": paraphrases}

    chosen = deduped[picked].drop("_i") if picked else pool.clear()
    return chosen, stats, eligible_by_path


def _sampled_items(chosen: pl.DataFrame, details: pl.DataFrame, cfg: CorpusConfig, overrides: pl.DataFrame | None) -> pl.DataFrame:
    """The chosen pool rows with their history, messages and sources, labelled."""
    columns = ["corpus_item_id", "routing_path", "session_id", "record_id", "reason", "task_type", "prompt"]
    details = details.unique("record_id", keep="first").with_columns(
        pl.col("messages").cast(pl.String),
        pl.col("retrieved_sources").cast(pl.List(pl.String)).fill_null([]),
        pl.col("source_record_ids").cast(pl.List(pl.String)),
    )
    joined = chosen.select(columns).join(details, on="record_id", how="left")
    return label_items(joined, cfg.labels, overrides)


def _report(
    items: pl.DataFrame,
    traffic_rows: dict[str, dict],
    eligible_by_path: dict[str, int],
    stats: dict[str, dict],
    prev_ids: dict[str, set[str]],
    stale: set[str],
    cfg: CorpusConfig,
    meaningful_share: float | None,
    unsliced_golden: dict[str, int],
) -> pl.DataFrame:
    rows = []
    for path in sorted(set(traffic_rows) | set(eligible_by_path) | set(prev_ids) | set(unsliced_golden)):
        traffic = traffic_rows.get(path)
        meaningful = bool(traffic and traffic["meaningful"])
        mine = items.filter(pl.col("routing_path") == path)
        new_ids, old_ids = set(mine["corpus_item_id"]), prev_ids.get(path, set())
        sampled = mine.filter(pl.col("reason") != "golden")
        notes = []
        if traffic is None:
            notes.append("no slice: no traffic in the window")
        elif not meaningful:
            threshold = f"threshold {_pct(meaningful_share)}" if meaningful_share is not None else "the meaningful-traffic threshold"
            notes.append(f"no slice: share {_pct(traffic['share'] or 0.0)} below {threshold}")
        else:
            if path in stale:
                notes.append("resampled from scratch (stale: task mix drifted)")
            if not eligible_by_path.get(path):
                notes.append("no eligible sessions in the window")
            elif sampled.height < cfg.min_items_warn:
                notes.append(f"only {sampled.height} items (min_items_warn {cfg.min_items_warn})")
        if unsliced_golden.get(path):
            notes.append(f"{unsliced_golden[path]} golden item(s) not added: the path has no slice")
        rows.append(
            {
                "routing_path": path,
                "meaningful": meaningful,
                "share": traffic["share"] if traffic else None,
                "eligible": eligible_by_path.get(path, 0),
                "duplicates": stats.get(path, {}).get("duplicates", 0),
                "paraphrases": stats.get(path, {}).get("paraphrases", 0),
                "selected": sampled.height,
                "golden": mine.height - sampled.height,
                "kept": len(new_ids & old_ids),
                "added": len(new_ids - old_ids),
                "dropped": len(old_ids - new_ids),
                "by_reason": json.dumps(dict(sorted(Counter(mine["reason"].to_list()).items()))),
                "by_task_type": json.dumps(dict(sorted(Counter(t or "" for t in mine["task_type"].to_list()).items()))),
                "note": "; ".join(notes),
            }
        )
    return pl.DataFrame(rows, schema=REPORT_SCHEMA) if rows else pl.DataFrame(schema=REPORT_SCHEMA)
