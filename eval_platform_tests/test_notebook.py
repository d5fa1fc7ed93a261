"""notebooks/analyst_quickstart.ipynb runs top to bottom on the sample data and answers its questions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from eval_platform import cli
from eval_platform.sample.generator import write_sample

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "analyst_quickstart.ipynb"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(out["data"].get("text/plain", ""))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    data = tmp_path_factory.mktemp("analyst")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVAL_PLATFORM_DATA_DIR", str(data))
        mp.delenv("EVAL_PLATFORM_CONFIG", raising=False)
        mp.delenv("DAGSTER_HOME", raising=False)
        write_sample(data, days=4, sessions_per_day=80)
        assert cli.main(["run"]) == 0
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        # kernel "python3": jupyter_client swaps the spec's bare `python` for this interpreter (the venv's).
        # The kernel inherits EVAL_PLATFORM_DATA_DIR from this process; cwd is a scratch dir so `data/` is never used.
        client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path_factory.mktemp("cwd"))}})
        client.execute()  # raises CellExecutionError naming the cell if any cell fails
        yield notebook, data


def test_every_cell_ran_without_error(executed):
    notebook, _ = executed
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)
    errors = [_text(c) for c in code if any(o["output_type"] == "error" for o in c.get("outputs", []))]
    assert not errors, errors


def test_it_names_the_planted_worse_path_and_reads_the_failing_lines_back(executed):
    notebook, data = executed
    out = "\n".join(_text(c) for c in notebook.cells if c.cell_type == "code")
    assert str(data / "snapshots" / "latest.duckdb") in out  # the snapshot, never the working warehouse
    assert re.search(r"worse path: 'fallback' on '(valid_citation|tone_policy)'", out), out[:3000]
    assert "flagged gap(s)" in out and "since" in out
    # the failing examples: the original landing line, whose request id is the failing record's id
    read_back = re.findall(r"record (\S+)  (\S+):(\d+)\n  why: .*\n  line: (.*)", out)
    assert read_back, "no landing line was read back"
    for record_id, _, _, line in read_back:
        assert f'"request_id":"{record_id}"' in line and '"routing_path":"fallback"' in line, line
    for table in ("cost_per_request", "offline", "online", "policy", "basis"):
        assert table in out, table
