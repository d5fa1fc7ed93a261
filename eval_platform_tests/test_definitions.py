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


def test_window_dependencies_follow_the_config():
    from eval_platform.config import load_config
    from eval_platform.partitions import drift_mapping, window_mapping

    cfg = load_config()
    assert window_mapping(cfg).start_offset == -(cfg.traffic.window_days - 1)
    short = cfg.model_copy(update={"traffic": cfg.traffic.model_copy(update={"window_days": 3})})
    assert window_mapping(short).start_offset == -2
    assert drift_mapping(cfg).start_offset == -(cfg.drift.baseline_lag_days + cfg.drift.baseline_days - 1)
