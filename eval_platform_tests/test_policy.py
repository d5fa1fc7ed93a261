import polars as pl
import pytest

from eval_platform.drift.policy import PolicyError, assign_models, estimate, load_policy

RECORDS = pl.DataFrame({
    "record_id": ["r1", "r2", "r3", "r4"],
    "routing_path": ["primary", "fallback", "fallback", "code"],
    "served_model": ["m-big", "m-small", "m-small", "m-code"],
    "task_type": ["qa", "qa", "code", "code"],
})
PATHS = {"primary": "m-big", "fallback": "m-small", "code": "m-code"}
MODELS = {"m-big", "m-small", "m-code", "m-frontier"}


def bad_policy(record):
    if record["record_id"] == "r3":
        raise KeyError("boom")
    return "primary"


def test_declarative_table_and_observed_routing():
    observed = assign_models(RECORDS, "production", load_policy("production", None), PATHS, MODELS)
    assert observed["model"].to_list() == ["m-big", "m-small", "m-small", "m-code"]
    table = load_policy("code_off_fallback", {"code": "code", "*": "m-frontier"})
    assert assign_models(RECORDS, "t", table, PATHS, MODELS)["model"].to_list() == ["m-frontier", "m-frontier", "m-code", "m-code"]


def test_policy_errors_name_policy_and_record():
    with pytest.raises(PolicyError, match=r"policy 'risky' raised KeyError.*record 'r3'"):
        assign_models(RECORDS, "risky", bad_policy, PATHS, MODELS)
    with pytest.raises(PolicyError, match=r"policy 'typo' returned 'gpt-5' for record 'r1'"):
        assign_models(RECORDS, "typo", lambda r: "gpt-5", PATHS, MODELS)
    with pytest.raises(PolicyError, match=r"policy 'nope': cannot import"):
        load_policy("nope", "no_such_module_xyz:route")


def test_estimate_uses_online_then_offline_and_weights_by_requests():
    assigned = RECORDS.with_columns(model=pl.Series(["m-big", "m-small", "m-code", "m-code"]))
    online = pl.DataFrame({"model": ["m-big", "m-small", "m-code"], "task_type": ["qa", "qa", "code"], "scorer": ["tone"] * 3,
                           "n": [100, 100, 5], "passes": [90, 50, 5]})
    offline = pl.DataFrame({"model": ["m-code"], "task_type": ["code"], "scorer": ["tone"], "n": [30], "passes": [27]})
    costs = pl.DataFrame({"model": ["m-big", "m-small", "m-code"], "task_type": ["qa", "qa", "code"], "cost_per_request": [0.01, 0.001, 0.002]})
    got = estimate(assigned, online, offline, costs, min_online_n=20).row(0, named=True)
    # m-code's 5 online scores are under min_online_n, so its cell comes from the offline slice (0.9)
    assert got["pass_rate"] == pytest.approx((0.9 + 0.5 + 0.9 + 0.9) / 4)
    assert got["ci_low"] < got["pass_rate"] < got["ci_high"]
    assert got["cost_usd"] == pytest.approx(0.01 + 0.001 + 0.002 * 2)
    assert "online scores for 2 requests" in got["basis"] and "offline scores for 2 requests" in got["basis"]
