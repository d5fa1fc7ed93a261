"""The scorer registry: named, versioned, model-agnostic scorers over a frame of responses.

A scorer is one function registered with `@scorer(name=..., version=...)`:

    fn(frame: pl.DataFrame, cfg: ScorersConfig) -> pl.DataFrame  # passed, score, explanation

It gets the input frame (INPUT_SCHEMA; offline eval responses and online served responses look the
same) and returns one row per input row, in order: `passed` (Boolean, NULL = not applicable), `score`
(Float64, NULL = n/a) and `explanation`. The decorator checks that shape and marks every row whose
status is not "ok" as n/a ("no response: status error"), so a scorer never judges a missing answer.
`score_frame` runs the deterministic scorers and returns the long frame eval_scores / online_scores
are made of. `llm_judge` needs the model engine and runs through `scores.judge.judge_scores`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from eval_platform.config import ScorersConfig

INPUT_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "prompt": pl.String(),
    "response": pl.String(),
    "task_type": pl.String(),
    "should_refuse": pl.Boolean(),
    "needs_citation": pl.Boolean(),
    "retrieved_sources": pl.List(pl.String()),
    "status": pl.String(),
}
REQUIRED_COLUMNS = ("item_id", "response")
RESULT_SCHEMA: dict[str, pl.DataType] = {"passed": pl.Boolean(), "score": pl.Float64(), "explanation": pl.String()}
SCORES_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "scorer": pl.String(),
    "scorer_version": pl.String(),
    **RESULT_SCHEMA,
}
# Modules whose import registers the built-in scorers (imported on first use, avoiding an import cycle).
BUILTIN_MODULES = ("citation", "refusal", "tone", "judge")

ScorerFn = Callable[[pl.DataFrame, ScorersConfig], pl.DataFrame]


@dataclass(frozen=True)
class ScorerSpec:
    """A registered scorer. `needs_engine` scorers call a model and are not run by `score_frame`."""

    name: str
    version: str
    fn: ScorerFn
    needs_engine: bool = False


_REGISTRY: dict[str, ScorerSpec] = {}


def normalise_input(frame: pl.DataFrame) -> pl.DataFrame:
    """The input columns with their declared types; optional columns absent from `frame` are NULL."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"scorer input: missing required column(s) {missing}; got {frame.columns}")
    columns = []
    for name, dtype in INPUT_SCHEMA.items():
        if name not in frame.columns:
            columns.append(pl.lit("ok" if name == "status" else None, dtype=dtype).alias(name))
        elif frame.schema[name] == pl.Null or frame.schema[name] != dtype:
            columns.append(pl.col(name).cast(dtype).alias(name))
    return frame.with_columns(columns) if columns else frame


def status_mask(frame: pl.DataFrame, result: pl.DataFrame) -> pl.DataFrame:
    """Rows without a usable response (status != ok) are not applicable, whatever the scorer said."""
    status = frame.get_column("status").fill_null("ok")
    no_response = status != "ok"
    if not no_response.any():
        return result
    return result.with_columns(
        pl.when(no_response).then(None).otherwise(pl.col("passed")).alias("passed"),
        pl.when(no_response).then(None).otherwise(pl.col("score")).alias("score"),
        pl.when(no_response).then(pl.lit("no response: status ") + status).otherwise(pl.col("explanation")).alias("explanation"),
    )


def _checked(name: str, fn: ScorerFn) -> ScorerFn:
    @functools.wraps(fn)
    def run(frame: pl.DataFrame, cfg: ScorersConfig) -> pl.DataFrame:
        frame = normalise_input(frame)
        result = fn(frame, cfg)
        if result.height != frame.height:
            raise ValueError(f"scorer {name!r} returned {result.height} rows for {frame.height} input rows")
        missing = [c for c in RESULT_SCHEMA if c not in result.columns]
        if missing:
            raise ValueError(f"scorer {name!r} result lacks column(s) {missing}")
        typed = result.select(pl.col(c).cast(t) for c, t in RESULT_SCHEMA.items())
        return status_mask(frame, typed)

    return run


def scorer(*, name: str, version: str, needs_engine: bool = False) -> Callable[[ScorerFn], ScorerFn]:
    """Register `fn` under `name`; the returned function checks its output shape and masks non-ok rows."""

    def register(fn: ScorerFn) -> ScorerFn:
        previous = _REGISTRY.get(name)
        origin = (fn.__module__, fn.__qualname__)
        if previous is not None and (previous.fn.__module__, previous.fn.__qualname__) != origin:
            raise ValueError(f"scorer {name!r} is already registered (version {_REGISTRY[name].version})")
        wrapped = _checked(name, fn)
        _REGISTRY[name] = ScorerSpec(name, version, wrapped, needs_engine)
        return wrapped

    return register


def _load_builtins() -> None:
    import importlib

    for module in BUILTIN_MODULES:
        importlib.import_module(f"eval_platform.scores.{module}")


def registered() -> dict[str, ScorerSpec]:
    """Every registered scorer by name (built-ins included)."""
    _load_builtins()
    return dict(_REGISTRY)


def get_scorer(name: str) -> ScorerSpec:
    specs = registered()
    if name not in specs:
        raise KeyError(f"unknown scorer {name!r}; registered: {', '.join(sorted(specs))}")
    return specs[name]


def to_long(frame: pl.DataFrame, spec: ScorerSpec, result: pl.DataFrame) -> pl.DataFrame:
    """A scorer's result as rows of the long scores frame (item_id, scorer, scorer_version, ...)."""
    return pl.concat(
        [
            frame.select(pl.col("item_id").cast(pl.String)),
            result.select(
                pl.lit(spec.name, dtype=pl.String).alias("scorer"),
                pl.lit(spec.version, dtype=pl.String).alias("scorer_version"),
                *(pl.col(c).cast(t) for c, t in RESULT_SCHEMA.items()),
            ),
        ],
        how="horizontal",
    )


def score_frame(frame: pl.DataFrame, cfg: ScorersConfig, names: list[str] | None = None) -> pl.DataFrame:
    """Run the named scorers (default: every scorer that needs no model) over `frame`; long format."""
    specs = registered()
    if names is None:
        names = sorted(n for n, s in specs.items() if not s.needs_engine)
    parts = []
    for name in names:
        spec = get_scorer(name)
        if spec.needs_engine:
            raise ValueError(f"scorer {name!r} calls a model: run it with scores.judge.judge_scores(frame, cfg, run)")
        parts.append(to_long(frame, spec, spec.fn(frame, cfg)))
    if not parts:
        return pl.DataFrame(schema=SCORES_SCHEMA)
    return pl.concat(parts, how="vertical")
