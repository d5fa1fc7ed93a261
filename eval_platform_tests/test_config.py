import re
from pathlib import Path

import pytest

from eval_platform.config import DEMO_CONFIG, ConfigError, load_config


def test_demo_config_loads_and_resolves_model_limits():
    cfg = load_config(DEMO_CONFIG)
    assert cfg.corpus.slice_size == 30
    assert cfg.traffic.window_days == 7
    assert cfg.evals.limits_for("demo/primary-large").concurrency == 32
    assert cfg.evals.limits_for("openai/gpt-4o-mini") == cfg.evals.default_limits


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_unknown_key_is_named(tmp_path):
    path = _write(tmp_path, "partition_start: 2026-11-01\ncorpus:\n  slice_sise: 30\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "corpus.slice_sise: unknown key" in str(err.value)
    assert str(path) in str(err.value)


def test_bad_value_names_key_and_expectation(tmp_path):
    path = _write(tmp_path, "partition_start: 2026-11-01\ntraffic:\n  meaningful_share: 2\n")
    with pytest.raises(ConfigError, match=r"traffic.meaningful_share: .*less than or equal to 1"):
        load_config(path)


def test_missing_required_key(tmp_path):
    with pytest.raises(ConfigError, match="partition_start: required key is missing"):
        load_config(_write(tmp_path, "traffic: {window_days: 7}\n"))


def test_not_a_mapping_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_env_var_selects_config(tmp_path, monkeypatch):
    path = _write(tmp_path, "partition_start: 2025-01-01\ncorpus: {slice_size: 5}\n")
    monkeypatch.setenv("EVAL_PLATFORM_CONFIG", str(path))
    assert load_config().corpus.slice_size == 5


def test_format_by_glob_first_match_wins(tmp_path):
    path = _write(tmp_path, "partition_start: 2025-01-01\ningest:\n  format_by_glob: {'proxy/*': litellm, '*': native}\n")
    cfg = load_config(path)
    assert cfg.format_for("proxy/2025-01-02.jsonl") == "litellm"
    assert cfg.format_for("x/2025-01-02.jsonl") == "native"


@pytest.mark.parametrize("key, yaml_path", [
    ("corpus.labels.prohibited_patterns.1", "corpus: {labels: {prohibited_patterns: ['ok', '(unclosed']}}"),
    ("scorers.refusal_policy.extra_refusal_patterns.1", "scorers: {refusal_policy: {extra_refusal_patterns: ['ok', '(unclosed']}}"),
    ("scorers.tone_policy.blame_patterns.1", "scorers: {tone_policy: {blame_patterns: ['ok', '(unclosed']}}"),
])
def test_a_bad_regex_is_named_when_the_config_loads(tmp_path, key, yaml_path):
    with pytest.raises(ConfigError, match=rf"{re.escape(key)}: Value error, not a usable regex: error: unclosed group"):
        load_config(_write(tmp_path, f"partition_start: 2026-11-01\n{yaml_path}\n"))
