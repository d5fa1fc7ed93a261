"""The Dagster UI as a person sees it: the real `dagster-webserver` (and `dagster-daemon`) on the repo's
`workspace.yaml` and `dagster.yaml`, driven through the same GraphQL API the browser uses.

The instance config is the repo's own dagster.yaml, unchanged: it leaves the run coordinator at
Dagster's default, the QueuedRunCoordinator, which only starts runs when a daemon dequeues them. So the
test starts `dagster-daemon run` beside the webserver, exactly what `make dev` does, rather than
switching to DefaultRunCoordinator (which would test a configuration nobody deploys).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from eval_platform.sample.generator import write_sample

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY = "2026-11-16"
DEADLINE_S = 100  # the whole test stays under 120 s
STAGE_ASSETS = {
    "ingest": {"ingest_files", "log_records", "log_quarantine"},
    "evals": {"eval_candidates", "eval_responses"},
    "publish": {"analyst_snapshot"},
}
EVERY_ASSET = {
    "ingest_files", "log_records", "log_quarantine", "sessions", "routing_traffic", "corpus_items",
    "eval_candidates", "eval_responses", "eval_scores", "online_scores", "path_gaps", "model_matrix",
    "path_drift", "offline_online_gaps", "routing_policy_eval", "analyst_snapshot",
}

ASSET_NODES = "{ assetNodes { assetKey { path } groupName description } }"
WORKSPACE = """{ workspaceOrError { ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on RepositoryLocation { repositories { name
    schedules { name cronSchedule } sensors { name } jobs { name } } }
  ... on PythonError { message } } } } } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message } } }"""
RUN = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status tags { key value } } } }"""
MATERIALIZED = """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations(limit: 5) { partition runId } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop one process we started and its children (its own session / process group), by its id."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    home, data = tmp_path_factory.mktemp("dagster_home"), tmp_path_factory.mktemp("data")
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    write_sample(data, days=2, sessions_per_day=20)
    env = {
        **os.environ, "DAGSTER_HOME": str(home), "EVAL_PLATFORM_DATA_DIR": str(data),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("EVAL_PLATFORM_CONFIG", None)
    # One-time migration first: two processes creating a fresh SQLite instance at once can race (STACK-NOTES 1.8).
    subprocess.run([BIN / "dagster", "instance", "migrate"], env=env, cwd=REPO, check=True, capture_output=True, timeout=60)
    port = _free_port()
    logs = {name: open(home / f"{name}.log", "wb") for name in ("webserver", "daemon")}
    procs = [
        subprocess.Popen([BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                         cwd=REPO, env=env, stdout=logs["webserver"], stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([BIN / "dagster-daemon", "run", "-w", "workspace.yaml"],
                         cwd=REPO, env=env, stdout=logs["daemon"], stderr=subprocess.STDOUT, start_new_session=True),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert all(p.poll() is None for p in procs), (home / "webserver.log").read_text()[-3000:]
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "webserver did not answer within 60 s"
            time.sleep(0.5)
        yield url, data, home
    finally:
        for proc in procs:
            _stop(proc)
        for handle in logs.values():
            handle.close()


def _gql(url: str, query: str, variables: dict | None = None) -> dict:
    reply = requests.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
    reply.raise_for_status()
    body = reply.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_asset_graph_schedule_and_sensor_are_listed_and_an_ingest_partition_runs(dagster_ui):
    url, data, home = dagster_ui
    started = time.monotonic()

    nodes = _gql(url, ASSET_NODES)["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert EVERY_ASSET <= set(by_key), EVERY_ASSET - set(by_key)
    for group, keys in STAGE_ASSETS.items():
        assert {k for k in keys if by_key[k]["groupName"] == group} == keys, group
    assert all(by_key[k]["description"] for k in EVERY_ASSET), [k for k in EVERY_ASSET if not by_key[k]["description"]]

    entries = _gql(url, WORKSPACE)["workspaceOrError"]["locationEntries"]
    location = next(e for e in entries if e["name"] == "eval_platform")["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    (repo,) = location["repositories"]
    assert "nightly_schedule" in {s["name"] for s in repo["schedules"]}
    assert "landing_sensor" in {s["name"] for s in repo["sensors"]}
    assert {"ingest_job", "nightly_job"} <= {j["name"] for j in repo["jobs"]}

    params = {
        "selector": {"repositoryLocationName": "eval_platform", "repositoryName": repo["name"], "jobName": "ingest_job"},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DAY}]},
        "runConfigData": {},
    }
    launched = _gql(url, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    status = None
    while time.monotonic() - started < DEADLINE_S - 15:
        run = _gql(url, RUN, {"id": run_id})["runOrError"]
        status = run["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    daemon_log = (home / "daemon.log").read_text(errors="replace")[-2000:]
    assert status == "SUCCESS", f"run {run_id} ended {status}\n{daemon_log}"
    assert {"key": "dagster/partition", "value": DAY} in run["tags"]

    for key in STAGE_ASSETS["ingest"]:
        events = _gql(url, MATERIALIZED, {"key": {"path": [key]}})["assetOrError"]["assetMaterializations"]
        assert {(e["partition"], e["runId"]) for e in events} >= {(DAY, run_id)}, key
    assert (data / "warehouse" / "eval.duckdb").exists()
