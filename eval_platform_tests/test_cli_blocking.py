"""A failing blocking check stops the downstream assets and makes `eval-platform run` exit non-zero."""

import duckdb
import polars as pl

from eval_platform import cli
from eval_platform.corpus import assets as corpus_assets
from eval_platform.sample.generator import write_sample


def test_pii_leak_in_corpus_blocks_evals_and_fails_the_run(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    write_sample(data, days=8, sessions_per_day=60)
    monkeypatch.setenv("EVAL_PLATFORM_DATA_DIR", str(data))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # a redactor that "finds" PII in every prompt: the corpus check must see a leak and block
    monkeypatch.setattr(corpus_assets, "redact_expr", lambda col: pl.col(col) + pl.lit(" [EMAIL]"))
    assert cli.main(["run"]) == 3
    assert "corpus_items:no_pii_in_corpus" in capsys.readouterr().err
    with duckdb.connect(str(data / "warehouse" / "eval.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM corpus_items").fetchall()[0][0] > 0
        assert conn.execute("SELECT count(*) FROM eval_responses").fetchall()[0][0] == 0
        assert conn.execute("SELECT count(*) FROM path_gaps").fetchall()[0][0] == 0


def test_cli_errors_name_the_problem(tmp_path, monkeypatch, capsys):
    import pytest

    monkeypatch.setenv("EVAL_PLATFORM_DATA_DIR", str(tmp_path / "empty"))
    assert cli.main(["gaps"]) == 1
    assert "no warehouse at" in capsys.readouterr().err
    write_sample(tmp_path / "empty", days=1, sessions_per_day=5)
    with pytest.raises(SystemExit, match=r"--days: expected FROM\.\.TO as ISO dates.*'2026-11-xx\.\.'"):
        cli.main(["run", "--days", "2026-11-xx.."])
