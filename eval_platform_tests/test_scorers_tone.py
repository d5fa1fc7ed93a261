"""tone_policy: banned phrases, self-references, shouting, blaming the user."""

import polars as pl
import pytest

from eval_platform.config import load_config
from eval_platform.sample import world
from eval_platform.scores.tone import tone_policy

CFG = load_config().scorers  # the demo policy


def _tone(*texts, status="ok"):
    frame = pl.DataFrame({"item_id": [str(i) for i in range(len(texts))], "response": list(texts),
                          "status": [status] * len(texts)}, schema={"item_id": pl.String, "response": pl.String, "status": pl.String})
    return tone_policy(frame, CFG)


@pytest.mark.parametrize(("text", "named"), [
    ("As an AI language model, I cannot run code.", 'banned phrase "as an ai language model"'),
    ("As an AI language model, I cannot run code.", 'self-reference "as an ai"'),
    ("Calm down, this is simple.", 'banned phrase "calm down"'),
    ("You should have read the manual first.", 'blames the user "You should have"'),
    ("That's your fault for not saving.", 'blames the user "That\u2019s your fault"'.replace("\u2019", "'")),
    ("THIS IS WRONG AND YOU NEED TO FIX THE CONFIGURATION NOW", "shouting: 100% capitals"),
    ("Great news!!! It works.", 'shouting "!!!"'),
])
def test_violations_fail_and_name_the_rule_and_text(text, named):
    out = _tone(text)
    assert out["passed"].to_list() == [False]
    assert named in out["explanation"][0]
    assert out["score"][0] < 1.0


@pytest.mark.parametrize("text", [
    "Here's what the documentation says. Refunds take 5-7 days.",
    "Use the NASA API and the HTTP GET method.",  # a few acronyms are not shouting
    "OK!",  # too short to count as shouting
    "```sql\nSELECT CUSTOMER_ID, SUM(AMOUNT) AS TOTAL FROM ORDERS GROUP BY CUSTOMER_ID\n```\nThis handles the edge cases.",
    "As an aide to the team, I reviewed it.",  # word boundary: "aide" is not "ai"
    "",
])
def test_clean_text_passes(text):
    out = _tone(text)
    assert out["passed"].to_list() == [True], out["explanation"].to_list()
    assert out["explanation"][0] == "no tone violation" and out["score"][0] == 1.0


def test_every_planted_demo_violation_is_caught():
    out = _tone(*world.TONE_VIOLATIONS, *world.AI_PREAMBLES)
    assert out["passed"].to_list() == [False] * (len(world.TONE_VIOLATIONS) + len(world.AI_PREAMBLES))


def test_missing_response_is_not_applicable():
    out = _tone(None)
    assert out["passed"].to_list() == [None]
    out = _tone("Calm down", status="error")
    assert out["passed"].to_list() == [None] and out["explanation"][0] == "no response: status error"


def test_several_rules_lower_the_score_more():
    out = _tone("Calm down.", "Calm down. You should have known. AS AN AI I KNOW BETTER THAN EVERYONE HERE!!!")
    assert out["score"][1] < out["score"][0] < 1.0


@pytest.mark.parametrize(("text", "shouts"), [
    ("HeLLo ThERe WoRLD of ThINGS and StUFF", True),  # mixed case over the ratio, no all-caps word
    ("Use the HTTP API with JSON payloads for the request", False),  # acronyms, low ratio
    ("\u00c9COLE FRAN\u00c7AISE TR\u00c8S GRANDE \u00c9NORME", True),  # non-ASCII capitals
])
def test_capitals_ratio_over_mixed_case_and_acronyms(text, shouts):
    assert any("capitals" in e for e in _tone(text)["explanation"].to_list()) == shouts


def test_low_caps_ratio_and_empty_rule_lists():
    cfg = CFG.model_copy(update={"tone_policy": CFG.tone_policy.model_copy(update={
        "banned_phrases": [], "forbidden_self_references": [], "blame_patterns": [], "max_caps_ratio": 0.3})})
    frame = pl.DataFrame({"item_id": ["a", "b"], "response": ["CAlm DOwn it WOrks FIne with PYthon HEre", "fine"]})
    result = tone_policy(frame, cfg)
    assert result["passed"].to_list() == [False, True]
    assert result["explanation"][0].startswith("shouting:")
