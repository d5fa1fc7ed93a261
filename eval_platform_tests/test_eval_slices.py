"""run_slice_evals at its edges: a slice with nothing to run, items without candidates."""

import logging
from datetime import date

import pytest

from eval_platform.config import DEMO_CONFIG
from eval_platform.evals.assets import run_slice_evals
from eval_platform.resources import Platform

DAY = date(2026, 11, 20)
LOG = logging.getLogger("test")


@pytest.fixture
def platform(tmp_path):
    platform = Platform(data_dir=str(tmp_path / "data"), config_path=str(DEMO_CONFIG))
    with platform.warehouse() as conn:
        conn.execute("INSERT INTO corpus_versions (corpus_version, window_end) VALUES ('v1', ?)", [DAY])
        conn.execute("INSERT INTO corpus_items (corpus_item_id, corpus_version, routing_path, messages) "
                     """VALUES ('i1', 'v1', 'primary', '[{"role": "user", "content": "hi"}]')""")
        conn.execute("INSERT INTO eval_responses (response_id, corpus_version, routing_path, model) "
                     "VALUES ('old', 'v1', 'code', 'demo/coder')")
    return platform


def test_items_without_candidates_is_a_clear_error(platform):
    with pytest.raises(ValueError, match="1 items but no eval_candidates; materialize eval_candidates first"):
        run_slice_evals(platform, DAY, "run-1", LOG)


def test_an_empty_slice_replaces_its_rows_with_none(platform):
    with platform.warehouse() as conn:
        conn.execute("INSERT INTO eval_candidates VALUES ('v1', 'primary', 'demo/primary-large', 'serving', 1.0)")
    version, responses = run_slice_evals(platform, DAY, "run-1", LOG, paths=["code"])
    assert version == "v1" and responses.height == 0 and {"status", "cached", "cost_usd"} <= set(responses.columns)
    with platform.warehouse() as conn:
        assert conn.execute("SELECT count(*) FROM eval_responses WHERE routing_path = 'code'").fetchall() == [(0,)]


def test_serving_models_are_those_that_answered(platform):
    """A failed LiteLLM call has no response, so it carries the deployment name (openai/model-b) where the
    answered calls carry the provider's (model-b): counting it would make one model two candidates."""
    from eval_platform.evals.assets import _SERVING_SQL

    with platform.warehouse() as conn:
        for n, (model, status) in enumerate([("model-b", "ok"), ("model-b", "ok"), ("openai/model-b", "error")]):
            conn.execute(
                "INSERT INTO log_records (record_id, day, ts, session_id, routing_path, served_model, status, "
                "source_file, source_line, source_format) VALUES (?, ?, ?, 's', 'primary', ?, ?, 'f', ?, 'litellm')",
                [f"r{n}", DAY, DAY, model, status, n + 1])
        serving = conn.sql(_SERVING_SQL, params=[DAY, DAY, "v1"]).fetchall()
    assert serving == [("primary", "model-b", "serving", 1.0)]
