"""End to end on the bundled sample: `eval-platform sample` + `eval-platform run`, in-process, in a temp dir.

Asserts the planted properties the README promises (DESIGN section 9) and the platform's guarantees:
nothing lost, idempotent re-runs, lineage to the real landing line, the planted gap flagged and no
clean path flagged.
"""

import json
import re

import duckdb
import pytest

from eval_platform import cli
from eval_platform.corpus.lineage import read_source_line

CLEAN_PATHS = {"primary", "code", "reasoning", "experimental"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVAL_PLATFORM_DATA_DIR", str(data))
        mp.delenv("EVAL_PLATFORM_CONFIG", raising=False)
        mp.delenv("DAGSTER_HOME", raising=False)
        assert cli.main(["sample"]) == 0
        assert cli.main(["run"]) == 0
        yield data, mp


def _sql(data, query, params=()):
    with duckdb.connect(str(data / "snapshots" / "latest.duckdb"), read_only=True) as conn:
        return conn.execute(query, list(params)).fetchall()


def test_every_line_is_accounted_for_and_quarantine_names_the_problem(demo):
    data, _ = demo
    files = _sql(data, "SELECT source_file, lines, records, quarantined, skipped FROM ingest_files")
    assert len(files) == 14
    assert all(lines == rec + quar + skip for _, lines, rec, quar, skip in files)
    errors = [e for (e,) in _sql(data, "SELECT error FROM log_quarantine")]
    assert len(errors) == 21  # the generator's documented malformed lines
    assert all(e.startswith("line ") for e in errors)
    assert any("turn" in e for e in errors) and any("session_id" in e for e in errors)


def test_no_email_survives_in_the_warehouse(demo):
    data, _ = demo
    planted = set()
    for path in (data / "landing").rglob("*.jsonl"):
        planted |= set(re.findall(r"[a-z0-9.]+@example\.com", path.read_text(encoding="utf-8", errors="replace")))
    assert planted, "the sample plants e-mail addresses"
    # every text column of every table (a NULL in one column must not hide another column's address)
    columns = _sql(data, "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                         "JOIN information_schema.tables t USING (table_schema, table_name) "
                         "WHERE t.table_type = 'BASE TABLE' AND (c.data_type LIKE 'VARCHAR%' OR c.data_type = 'JSON')")
    assert ("log_records", "error") in columns and ("log_quarantine", "raw") in columns
    for table, column in columns:
        hits = _sql(data, f'SELECT count(*) FROM "{table}" WHERE contains("{column}"::VARCHAR, \'@example.com\')')[0][0]
        assert hits == 0, (table, column)
    assert _sql(data, "SELECT count(*) FROM log_records WHERE prompt LIKE '%[EMAIL]%'")[0][0] > 0


def test_slices_and_the_low_traffic_path(demo):
    data, _ = demo
    slices = json.loads(_sql(data, "SELECT slices FROM corpus_versions ORDER BY created_at DESC LIMIT 1")[0][0])
    by_path = {s["routing_path"]: s for s in slices}
    assert not by_path["experimental"]["meaningful"] and by_path["experimental"]["selected"] == 0
    assert "no slice" in by_path["experimental"]["note"]
    for path in ("primary", "fallback", "code", "reasoning"):
        assert by_path[path]["selected"] == 30, (path, by_path[path])


def test_planted_gap_is_flagged_and_no_clean_path_is(demo):
    data, _ = demo
    flagged = set(_sql(data, "SELECT source, routing_path, scorer FROM path_gaps WHERE flagged"))
    assert ("offline", "fallback", "valid_citation") in flagged
    assert ("online", "fallback", "valid_citation") in flagged
    assert not {p for _, p, _ in flagged} & CLEAN_PATHS


def test_a_flags_failing_examples_come_from_the_rows_it_was_computed_on(demo):
    """Offline: this version's serving models of the path (not an alternative model); online: the window."""
    from datetime import date

    from eval_platform.gaps.assets import _EXAMPLES_SQL

    data, _ = demo
    version, day = _sql(data, "SELECT corpus_version, window_end FROM corpus_versions ORDER BY window_end DESC LIMIT 1")[0]
    serving = {m for (m,) in _sql(data, "SELECT model FROM eval_candidates WHERE corpus_version = ? AND "
                                        "routing_path = 'fallback' AND role = 'serving'", [version])}
    alternatives = {m for (m,) in _sql(data, "SELECT DISTINCT model FROM eval_scores WHERE corpus_version = ? AND "
                                             "routing_path = 'fallback' AND NOT passed", [version])} - serving
    assert alternatives, "the demo has failing alternative models on the fallback slice"
    params = {"path": "fallback", "scorer": "llm_judge", "source": "offline", "version": version,
              "start": date(2000, 1, 1), "end": day}
    with duckdb.connect(str(data / "snapshots" / "latest.duckdb"), read_only=True) as conn:
        models = {m for (_, _, _, m, *_) in conn.sql(_EXAMPLES_SQL, params=params).fetchall()}
    assert models and models <= serving


def test_lineage_of_a_failing_score_reaches_the_exact_landing_line(demo):
    data, _ = demo
    rows = _sql(data, """SELECT response_id, record_id, source_file, source_line FROM failure_lineage
                         WHERE source = 'offline' AND source_file IS NOT NULL LIMIT 5""")
    assert rows
    for _, record_id, source_file, source_line in rows:
        line = read_source_line(data / "landing", source_file, source_line)
        assert json.loads(line)["request_id"] == record_id


def test_lineage_command_prints_the_chain(demo, capsys):
    data, _ = demo
    response_id = _sql(data, "SELECT response_id FROM failure_lineage WHERE source = 'offline' AND source_file IS NOT NULL LIMIT 1")[0][0]
    capsys.readouterr()
    assert cli.main(["lineage", response_id]) == 0
    out = capsys.readouterr().out
    assert response_id in out and ".jsonl" in out


def test_rerun_is_idempotent_and_pays_for_nothing_twice(demo):
    data, _ = demo
    before = _sql(data, "SELECT (SELECT count(*) FROM log_records), (SELECT count(*) FROM log_quarantine), (SELECT count(*) FROM eval_responses)")
    assert cli.main(["run"]) == 0
    after = _sql(data, "SELECT (SELECT count(*) FROM log_records), (SELECT count(*) FROM log_quarantine), (SELECT count(*) FROM eval_responses)")
    assert before == after
    assert _sql(data, "SELECT bool_and(cached) FROM eval_responses WHERE status = 'ok'")[0][0] is True


def test_gaps_command_formats(demo, capsys):
    capsys.readouterr()
    assert cli.main(["gaps", "--format", "json", "--source", "offline"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["source"] for r in rows} == {"offline"}


def test_planted_mix_shift_shows_from_day_10_and_is_attributed_to_mix(demo):
    data, _ = demo
    from eval_platform.config import load_config
    from eval_platform.sample import world

    threshold = load_config().drift.stale_divergence
    shift_day = _sql(data, "SELECT min(day) + INTERVAL (? - 1) DAY FROM log_records", [world.P2_SHIFT_DAY])[0][0].date()
    rows = dict(_sql(data, "SELECT day, mix_divergence FROM path_drift WHERE routing_path = 'fallback' AND mix_divergence IS NOT NULL"))
    assert rows[shift_day] >= threshold
    assert all(div < threshold for day, div in rows.items() if day < shift_day)
    latest = _sql(data, """SELECT total_change, mix_effect, quality_effect FROM path_drift_scores
                           WHERE routing_path = 'fallback' AND scorer = 'tone_policy' ORDER BY day DESC LIMIT 1""")[0]
    total, mix, quality = latest
    assert total < -0.1
    assert mix + quality == pytest.approx(total, abs=1e-9)
    assert abs(mix) > abs(quality) and mix / total > 0.5


def test_policy_that_keeps_code_off_the_fallback_is_estimated_better_and_priced(demo):
    data, _ = demo
    est = {(p, s): (rate, cost) for p, s, rate, cost in _sql(data, "SELECT policy, scorer, pass_rate, cost_usd FROM routing_policy_eval")}
    better, base = est[("code_off_fallback", "tone_policy")], est[("production", "tone_policy")]
    assert better[0] > base[0] + 0.02
    # the judge (offline, demo/judge) scores code answers: the fallback's poor code answers fail it
    assert est[("code_off_fallback", "llm_judge")][0] > est[("production", "llm_judge")][0]
    # code moves from demo/fallback-small to the pricier demo/coder: the bill goes up, not down
    assert better[1] > base[1]
    assert est[("everything_on_frontier", "tone_policy")][1] > 3 * base[1]


def test_gaps_table_names_the_flagged_path_and_the_path_without_slice(demo, capsys):
    capsys.readouterr()
    assert cli.main(["gaps"]) == 0
    out = capsys.readouterr().out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("FLAGGED: ") and "fallback on valid_citation (offline" in verdict
    assert not any(f"{p} on" in verdict for p in CLEAN_PATHS)
    assert any(line.startswith("offline  experimental   no slice") for line in out.splitlines())
