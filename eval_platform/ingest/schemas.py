"""The pandera schema of `log_records`, applied to collected frames before anything is written.

Row-level failures are split off into quarantine with pandera's reasons (STACK-NOTES 4.3); a
schema-level failure (a missing column, a wrong dtype) is a bug in an adapter and fails the run.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from eval_platform.ingest.formats.base import OUTCOMES, STATUSES


class LogRecordSchema(pa.DataFrameModel):
    record_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    ts: pl.Datetime = pa.Field(nullable=False)
    day: pl.Date = pa.Field(nullable=False)
    session_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    turn: pl.Int32 = pa.Field(nullable=True, ge=1)
    routing_path: str = pa.Field(nullable=False, str_length={"min_value": 1})
    served_model: str = pa.Field(nullable=True)
    status: str = pa.Field(nullable=False, isin=list(STATUSES))
    latency_ms: float = pa.Field(nullable=True, ge=0)
    cost_usd: float = pa.Field(nullable=True, ge=0)
    input_tokens: pl.Int64 = pa.Field(nullable=True, ge=0)
    output_tokens: pl.Int64 = pa.Field(nullable=True, ge=0)
    user_outcome: str = pa.Field(nullable=True, isin=list(OUTCOMES))
    source_file: str = pa.Field(nullable=False)
    source_line: pl.Int64 = pa.Field(nullable=False, ge=1)
    source_format: str = pa.Field(nullable=False)

    class Config:
        strict = False  # other canonical columns are checked by the adapters


class RecordSchemaError(RuntimeError):
    """A schema-level failure: the adapter produced the wrong columns or types."""


def validate_records(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (valid rows, quarantine rows with pandera's reasons). Raises on schema-level failures."""
    missing = sorted(set(LogRecordSchema.to_schema().columns) - set(records.columns))
    if missing:
        raise RecordSchemaError(f"log_records frame is missing column(s) {missing}")
    empty_quarantine = pl.DataFrame(
        schema={"source_file": pl.String, "source_line": pl.Int64, "day": pl.Date, "raw": pl.String,
                "error": pl.String, "source_format": pl.String, "content_hash": pl.String}
    )
    try:
        LogRecordSchema.validate(records, lazy=True)
        return records, empty_quarantine
    except SchemaErrors as err:
        cases = err.failure_cases
    if cases["index"].is_null().any():
        schema_level = cases.filter(pl.col("index").is_null())
        raise RecordSchemaError(f"log_records schema failure: {schema_level.select('column', 'check', 'failure_case').rows()}")
    reasons = cases.group_by("index").agg(
        pl.format("field '{}': failed {} (got {})", "column", "check", "failure_case").sort().str.join("; ").alias("reason")
    )
    indexed = records.with_row_index("_row").join(reasons, left_on="_row", right_on="index", how="left")
    # a line is kept or quarantined whole: one failing record (of an OTLP line's several) takes its line along
    bad_line = pl.col("reason").is_not_null().any().over("source_line")
    good = indexed.filter(~bad_line).drop("_row", "reason")
    quarantine = (
        indexed.filter(bad_line)
        .group_by("source_line", maintain_order=True)
        .agg(
            pl.col("source_file", "day", "source_format", "content_hash").first(),
            raw=pl.struct(pl.exclude("_row", "reason", "source_line")).struct.json_encode().str.join("\n"),
            reason=pl.col("reason").drop_nulls().str.join("; "),
        )
        .select(
            "source_file", "source_line", "day", "raw",
            pl.format("line {}: schema check: {}", "source_line", "reason").alias("error"),
            "source_format", "content_hash",
        )
    )
    return good, quarantine
