"""Readers for the team's label files under `labels/` and curated golden items under `golden/`.

Missing files mean "no labels"; a malformed file is an error naming the file and the problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

EXPERT_FLAGS_SCHEMA = {"session_id": pl.String, "record_id": pl.String, "note": pl.String}
OVERRIDES_SCHEMA = {"record_id": pl.String, "should_refuse": pl.Boolean, "needs_citation": pl.Boolean, "note": pl.String}
GOLDEN_SCHEMA = {
    "routing_path": pl.String,
    "task_type": pl.String,
    "messages": pl.String,
    "retrieved_sources": pl.List(pl.String),
    "should_refuse": pl.Boolean,
    "needs_citation": pl.Boolean,
    "note": pl.String,
}


class LabelFileError(ValueError):
    pass


def _read_csv(path: Path, schema: dict) -> pl.DataFrame:
    if not path.exists():
        return pl.DataFrame(schema=schema)
    try:
        frame = pl.read_csv(path, schema_overrides=schema, infer_schema=False)
    except Exception as exc:  # polars raises several error types for bad CSV
        raise LabelFileError(f"{path}: cannot read label file: {exc}") from exc
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise LabelFileError(f"{path}: missing column(s) {missing}; expected {list(schema)}")
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


def read_expert_flags(labels_dir: Path) -> pl.DataFrame:
    """`expert_flags.csv`: session_id, record_id, note (either id may be empty)."""
    flags = _read_csv(labels_dir / "expert_flags.csv", EXPERT_FLAGS_SCHEMA)
    return flags.with_columns(pl.col("session_id", "record_id").str.strip_chars().replace("", None))


def read_overrides(labels_dir: Path) -> pl.DataFrame:
    """`overrides.csv`: record_id, should_refuse, needs_citation, note (blank = keep the rule's label)."""
    return _read_csv(labels_dir / "overrides.csv", OVERRIDES_SCHEMA)


def read_golden(golden_dir: Path) -> pl.DataFrame:
    """Curated golden items, one JSON object per line in `golden/*.jsonl`."""
    rows: list[dict] = []
    for path in sorted(golden_dir.glob("*.jsonl")) if golden_dir.exists() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelFileError(f"{path}:{number}: not valid JSON: {exc}") from None
            for key in ("routing_path", "messages"):
                if key not in obj:
                    raise LabelFileError(f"{path}:{number}: field '{key}' is missing")
            messages = obj["messages"]
            rows.append({**{k: obj.get(k) for k in GOLDEN_SCHEMA}, "messages": messages if isinstance(messages, str) else json.dumps(messages)})
    return pl.DataFrame(rows, schema=GOLDEN_SCHEMA) if rows else pl.DataFrame(schema=GOLDEN_SCHEMA)
