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


TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")


def _label_word(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()


def as_bool(column: str) -> pl.Expr:
    """A label column as Boolean, whether it arrives typed or as text (blank or unknown = no value)."""
    word = _label_word(column)
    return pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False).otherwise(None).alias(column)


def read_overrides(labels_dir: Path) -> pl.DataFrame:
    """`overrides.csv`: record_id, should_refuse, needs_citation, note (blank = keep the rule's label).

    A label cell is true/false, yes/no, y/n, t/f or 1/0 (any case) or blank; anything else is an error
    naming the file, the data row and the column, never a silently kept rule label.
    """
    path = labels_dir / "overrides.csv"
    text = {c: (pl.String if t == pl.Boolean else t) for c, t in OVERRIDES_SCHEMA.items()}
    frame = _read_csv(path, text)
    labels = [c for c, t in OVERRIDES_SCHEMA.items() if t == pl.Boolean]
    for column in labels:
        word = _label_word(column)
        bad = frame.with_row_index("_row").filter(
            word.is_not_null() & (word != "") & ~word.is_in(TRUE_WORDS + FALSE_WORDS))
        if bad.height:
            row, value = bad.row(0, named=True)["_row"], bad.row(0, named=True)[column]
            # a data row, counted after the header (a quoted cell may span several physical lines)
            raise LabelFileError(f"{path}: row {row + 1}: field '{column}': expected one of "
                                 f"{'/'.join(TRUE_WORDS + FALSE_WORDS)} or blank, got {value!r}"
                                 + (f" ({bad.height - 1} more such rows)" if bad.height > 1 else ""))
    return frame.with_columns(as_bool(column) for column in labels)


def _golden_problem(obj: object) -> str | None:
    """What is wrong with one golden item, or None."""
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    for key in ("routing_path", "messages"):
        if key not in obj:
            return f"field '{key}' is missing"
    if not isinstance(obj["routing_path"], str) or not obj["routing_path"]:
        return f"field 'routing_path': expected a non-empty string, got {obj['routing_path']!r}"
    messages = obj["messages"]
    if not isinstance(messages, list) or not messages:
        return "field 'messages': expected a non-empty list of {role, content} objects"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return f"field 'messages[{i}]': expected an object with a string 'role'"
    sources = obj.get("retrieved_sources")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(x, str) for x in sources)):
        return f"field 'retrieved_sources': expected a list of strings, got {sources!r}"
    for key in ("should_refuse", "needs_citation"):
        if obj.get(key) is not None and not isinstance(obj[key], bool):
            return f"field '{key}': expected true, false or null, got {obj[key]!r}"
    for key in ("task_type", "note"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"field '{key}': expected a string or null, got {obj[key]!r}"
    return None


def read_golden(golden_dir: Path) -> pl.DataFrame:
    """Curated golden items, one JSON object per line in `golden/*.jsonl`; errors name the file and line."""
    rows: list[dict] = []
    for path in sorted(golden_dir.glob("*.jsonl")) if golden_dir.exists() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelFileError(f"{path}:{number}: not valid JSON: {exc}") from None
            if problem := _golden_problem(obj):
                raise LabelFileError(f"{path}:{number}: {problem}")
            rows.append({**{k: obj.get(k) for k in GOLDEN_SCHEMA}, "messages": json.dumps(obj["messages"])})
    return pl.DataFrame(rows, schema=GOLDEN_SCHEMA) if rows else pl.DataFrame(schema=GOLDEN_SCHEMA)
