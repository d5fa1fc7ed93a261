"""The code location loads, and its shape is what the UI, schedules and checks rely on."""


import dagster as dg

from eval_platform.definitions import defs

STAGES = {
    "ingest": {"ingest_files", "log_records", "log_quarantine"},
    "sessions": {"sessions", "routing_traffic"},
    "corpus": {"corpus_items"},
    "evals": {"eval_candidates", "eval_responses"},
    "scores": {"eval_scores", "online_scores"},
    "gaps": {"path_gaps", "model_matrix"},
    "drift": {"path_drift", "offline_online_gaps", "routing_policy_eval"},
    "publish": {"analyst_snapshot"},
}


def test_definitions_load_with_every_stage_asset():
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert keys == set().union(*STAGES.values())


def test_every_asset_has_group_owner_kinds_and_description():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        group = next(g for g, names in STAGES.items() if name in names)
        assert node.group_name == group, name
        assert node.owners == ["team:evals"], name
        assert node.kinds, name
        assert node.description and len(node.description) > 40, name
        assert node.partitions_def is not None, name


def test_blocking_checks_guard_ingest_and_corpus():
    graph = defs.resolve_asset_graph()
    blocking = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys if graph.get_check_spec(k).blocking}
    assert ("ingest_files", "every_line_accounted_for") in blocking
    assert ("log_records", "log_records_schema") in blocking
    assert ("corpus_items", "no_pii_in_corpus") in blocking
    assert ("corpus_items", "source_records_exist") in blocking


def test_landing_sensor_targets_the_ingest_job():  # the nightly schedule is tested in test_automation
    assert defs.resolve_sensor_def("landing_sensor").job_name == "ingest_job"


_GRAPH_OFFSETS = """
import json
import dagster as dg
from eval_platform.definitions import defs
graph = defs.resolve_asset_graph()
print(json.dumps(sorted([key.to_user_string(), dep.to_user_string(), mapping.start_offset]
                        for key in graph.get_all_asset_keys()
                        for dep, mapping in (graph.get(key).partition_mappings or {}).items()
                        if isinstance(mapping, dg.TimeWindowPartitionMapping))))
"""


def test_window_dependencies_follow_the_config(tmp_path):
    """The window dependencies the asset graph declares (what backfills and the UI follow) span the
    configured traffic window and drift baseline, for every asset that reads a window: checked with a
    3-day window and a 2+5-day drift baseline, which no hard-coded mapping would match."""
    import json
    import os
    import subprocess
    import sys

    import yaml

    from eval_platform.config import DEMO_CONFIG

    cfg = yaml.safe_load(DEMO_CONFIG.read_text())
    cfg["traffic"]["window_days"] = 3
    cfg["drift"].update(baseline_lag_days=2, baseline_days=5)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = subprocess.run([sys.executable, "-c", _GRAPH_OFFSETS], capture_output=True, text=True, check=True,
                         env={**os.environ, "EVAL_PLATFORM_CONFIG": str(path)})
    offsets = {(key, dep): offset for key, dep, offset in json.loads(out.stdout.strip().splitlines()[-1])}
    window, drift = -2, -6
    expected_window = {("sessions", "log_records"), ("routing_traffic", "log_records"), ("corpus_items", "log_records"),
                       ("path_gaps", "online_scores"), ("offline_online_gaps", "online_scores")}
    assert expected_window <= set(offsets)
    assert {offsets[pair] for pair in expected_window} == {window}
    assert offsets[("path_drift", "log_records")] == offsets[("path_drift", "online_scores")] == drift
    assert set(offsets.values()) == {window, drift}  # no asset declares a window of its own