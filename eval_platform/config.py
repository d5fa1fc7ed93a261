"""Platform configuration: one YAML file validated by pydantic, plus the data directory.

`EVAL_PLATFORM_CONFIG` names the YAML file (default: the bundled demo config next to this module);
`EVAL_PLATFORM_DATA_DIR` names the data directory (default: `data/` in the current directory).
Every key is documented in the README ("Configuration"). Unknown keys are errors, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import fnmatch
import os
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

DEMO_CONFIG = Path(__file__).with_name("demo_config.yaml")
LogFormat = Literal["auto", "native", "litellm", "otel"]


def _usable_regex(pattern: str) -> str:
    """A pattern polars' regex engine accepts: the label rules and scorers run every configured pattern there."""
    import polars as pl

    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.PolarsError as exc:
        detail = next((line.strip() for line in str(exc).splitlines() if line.strip().startswith("error:")), "")
        raise ValueError(f"not a usable regex{': ' + detail if detail else ''}") from None
    return pattern


Regex = Annotated[str, AfterValidator(_usable_regex)]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestConfig(_Strict):
    format: LogFormat = "auto"
    # glob (relative to landing/) -> format; the first matching glob wins, else `format`.
    format_by_glob: dict[str, LogFormat] = Field(default_factory=dict)
    max_line_bytes: int = Field(default=16 * 1024 * 1024, gt=0)  # LiteLLM payloads with inline images run to MBs
    quarantine_warn_rate: float = Field(default=0.05, ge=0, le=1)
    # a partition's rows held in memory before the next file's ingestion spills them to Parquet (data/tmp/)
    spill_bytes: int = Field(default=2 * 1024**3, ge=0)


class OutcomeRules(_Strict):
    """How formats without a native `user_outcome` field say a session was escalated or abandoned."""

    metadata_keys: list[str] = Field(default_factory=lambda: ["user_outcome", "outcome"])
    escalated_tags: list[str] = Field(default_factory=lambda: ["escalated", "human_handoff", "outcome:escalated"])
    abandoned_tags: list[str] = Field(default_factory=lambda: ["abandoned", "outcome:abandoned"])


class TrafficConfig(_Strict):
    window_days: int = Field(default=7, ge=1, le=90)
    meaningful_share: float = Field(default=0.01, ge=0, le=1)


class LabelRules(_Strict):
    refuse_task_types: list[str] = Field(default_factory=lambda: ["prohibited"])
    citation_task_types: list[str] = Field(default_factory=lambda: ["qa_with_sources"])
    # case-insensitive regular expressions over the prompt that mark a prohibited request
    prohibited_patterns: list[Regex] = Field(default_factory=list)


class CorpusConfig(_Strict):
    slice_size: int = Field(default=30, ge=1)
    min_items_warn: int = Field(default=20, ge=0)
    seed: int = 7
    paraphrase_similarity: float = Field(default=0.9, gt=0, le=1)
    labels: LabelRules = Field(default_factory=LabelRules)


class ModelLimits(_Strict):
    concurrency: int = Field(default=8, ge=1)
    rpm: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    api_base: str | None = None
    # the litellm model string to call for this name when the name as logged is not callable (a LiteLLM
    # log's served model is the provider's answer, e.g. "gpt-4o-2024-08-06" for "azure/my-deployment")
    litellm_model: str | None = None
    # name of the environment variable holding this provider's key (else litellm's usual variables)
    api_key_env: str | None = None
    # price override for models litellm does not know (USD per token)
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)


class EvalConfig(_Strict):
    alternatives_all_paths: list[str] = Field(default_factory=list)
    alternatives_by_path: dict[str, list[str]] = Field(default_factory=dict)
    budget_usd: float = Field(default=5.0, ge=0)
    repeats: int = Field(default=1, ge=1)
    params: dict[str, float | int | str] = Field(default_factory=lambda: {"temperature": 0.0, "max_tokens": 512})
    default_limits: ModelLimits = Field(default_factory=ModelLimits)
    # glob over model names -> limits; the first matching glob wins, else default_limits
    limits_by_model: dict[str, ModelLimits] = Field(default_factory=dict)

    def limits_for(self, model: str) -> ModelLimits:
        for pattern, limits in self.limits_by_model.items():
            if fnmatch.fnmatchcase(model, pattern):
                return limits
        return self.default_limits


class CitationScorer(_Strict):
    allowed_domains: list[str] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)


class RefusalScorer(_Strict):
    extra_refusal_patterns: list[Regex] = Field(default_factory=list)


class ToneScorer(_Strict):
    banned_phrases: list[str] = Field(default_factory=list)
    forbidden_self_references: list[str] = Field(default_factory=list)
    max_caps_ratio: float = Field(default=0.6, gt=0, le=1)
    blame_patterns: list[Regex] = Field(default_factory=list)


class JudgeScorer(_Strict):
    enabled: bool = False
    model: str = "demo/judge"
    rubric: str = "The answer addresses the user's request directly and accurately."


class ScorersConfig(_Strict):
    valid_citation: CitationScorer = Field(default_factory=CitationScorer)
    refusal_policy: RefusalScorer = Field(default_factory=RefusalScorer)
    tone_policy: ToneScorer = Field(default_factory=ToneScorer)
    llm_judge: JudgeScorer = Field(default_factory=JudgeScorer)


class OnlineConfig(_Strict):
    sample_rate: float = Field(default=1.0, ge=0, le=1)


class StatsConfig(_Strict):
    alpha: float = Field(default=0.05, gt=0, lt=1)
    min_gap: float = Field(default=0.10, ge=0, le=1)


class DriftConfig(_Strict):
    baseline_days: int = Field(default=7, ge=1)
    # the baseline window ends this many days before the day measured
    baseline_lag_days: int = Field(default=7, ge=1)
    stale_divergence: float = Field(default=0.1, ge=0, le=1)


class PoliciesConfig(_Strict):
    """Routing policies to evaluate on the last window's traffic (DESIGN: routing_policy_eval).

    A policy is an importable callable "package.module:function" taking a request record (dict) and
    returning a routing path or a model, or a declarative table {task_type: model or path, "*": default}.
    `production` unset means the routing observed in the logs.
    """

    production: str | None = None
    alternatives: dict[str, str | dict[str, str]] = Field(default_factory=dict)
    min_online_n: int = Field(default=20, ge=1)


class PublishConfig(_Strict):
    keep_snapshots: int = Field(default=5, ge=1)


class WarehouseConfig(_Strict):
    # DuckDB's memory_limit for the asset runs' warehouse connections ("4GB", "512MiB"); unset = DuckDB's
    # default, 80% of RAM. A write's checkpoint uses as much as it is allowed (4.3 GiB for 3 GB of new rows).
    memory_limit: str | None = Field(default=None, pattern=r"^[0-9]+(\.[0-9]+)? ?([KMGT]i?B)$")


class PlatformConfig(_Strict):
    partition_start: date
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    outcome_rules: OutcomeRules = Field(default_factory=OutcomeRules)
    traffic: TrafficConfig = Field(default_factory=TrafficConfig)
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    evals: EvalConfig = Field(default_factory=EvalConfig)
    scorers: ScorersConfig = Field(default_factory=ScorersConfig)
    online: OnlineConfig = Field(default_factory=OnlineConfig)
    stats: StatsConfig = Field(default_factory=StatsConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)

    def format_for(self, relative_path: str) -> LogFormat:
        for pattern, fmt in self.ingest.format_by_glob.items():
            if fnmatch.fnmatchcase(relative_path, pattern):
                return fmt
        return self.ingest.format


def _describe(error: dict) -> str:
    key = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key}: {error['msg']} (got {error.get('input')!r})"


def load_config(path: str | os.PathLike | None = None) -> PlatformConfig:
    """Load and validate the config; errors name the file and every bad key."""
    path = Path(path or os.environ.get("EVAL_PLATFORM_CONFIG") or DEMO_CONFIG)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found (EVAL_PLATFORM_CONFIG)") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(raw).__name__}")
    try:
        return PlatformConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{path}: invalid configuration:\n  {problems}") from None


class DataDir(BaseModel):
    """The layout of `EVAL_PLATFORM_DATA_DIR`."""

    model_config = ConfigDict(frozen=True)
    root: Path

    @classmethod
    def from_env(cls) -> DataDir:
        return cls(root=Path(os.environ.get("EVAL_PLATFORM_DATA_DIR", "data")).resolve())

    @cached_property
    def landing(self) -> Path:
        return self.root / "landing"

    @cached_property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "eval.duckdb"

    @cached_property
    def tmp(self) -> Path:
        """Scratch space (rows spilled by ingestion); every user removes its own files."""
        return self.root / "tmp"

    @cached_property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @cached_property
    def labels(self) -> Path:
        return self.root / "labels"

    @cached_property
    def golden(self) -> Path:
        return self.root / "golden"

    @cached_property
    def response_store(self) -> Path:
        """The model-call store lives beside the warehouse so long eval runs never hold its lock."""
        return self.root / "warehouse" / "responses.duckdb"
