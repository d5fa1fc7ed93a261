"""validate_records: the pandera schema of log_records on collected frames."""

from pathlib import Path

import polars as pl
import pytest

from eval_platform.config import load_config
from eval_platform.ingest.file_ingest import ingest_file
from eval_platform.ingest.schemas import RecordSchemaError, validate_records

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def otlp_records():
    """Line 1 holds two chat spans (two records), line 3 one."""
    return ingest_file(FIXTURES / "otel_otlp_export.jsonl", FIXTURES, load_config()).records


def test_valid_records_pass_untouched(otlp_records):
    good, quarantine = validate_records(otlp_records)
    assert good.equals(otlp_records) and quarantine.height == 0


def test_one_failing_record_quarantines_its_whole_line_once(otlp_records):
    broken = otlp_records.with_columns(
        turn=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(0, pl.Int32)).otherwise("turn"))
    good, quarantine = validate_records(broken)
    assert good["source_line"].to_list() == [3]  # the other span of line 1 does not stay behind
    assert quarantine.select("source_line", "error").rows() == [
        (1, "line 1: schema check: field 'turn': failed greater_than_or_equal_to(1) (got 0)")]
    assert quarantine["raw"][0].count("\n") == 1  # both records of the line are kept, as JSON, for inspection


def test_a_missing_column_is_a_schema_level_error(otlp_records):
    with pytest.raises(RecordSchemaError, match=r"missing column\(s\) \['routing_path'\]"):
        validate_records(otlp_records.drop("routing_path"))
