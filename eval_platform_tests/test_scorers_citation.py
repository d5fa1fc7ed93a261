"""valid_citation and the scorer registry."""

import polars as pl
import pytest

from eval_platform.config import CitationScorer, ScorersConfig
from eval_platform.scores import registry
from eval_platform.scores.citation import valid_citation
from eval_platform.scores.registry import SCORES_SCHEMA, registered, score_frame, scorer

RETRIEVED = ["https://docs.acme.example/billing/refunds", "DOC-1042"]
CFG = ScorersConfig(valid_citation=CitationScorer(allowed_domains=["docs.acme.example", "help.acme.example", "kb.acme.example"]))


def _frame(rows):
    return pl.DataFrame(
        [{"item_id": str(i), "response": text, "needs_citation": needs, "retrieved_sources": retrieved,
          "status": status} for i, (text, needs, retrieved, status) in enumerate(rows)],
        schema={"item_id": pl.String, "response": pl.String, "needs_citation": pl.Boolean,
                "retrieved_sources": pl.List(pl.String), "status": pl.String},
    )


def _score(*rows):
    """Rows of (text, needs_citation[, retrieved[, status]]); retrieved defaults to RETRIEVED."""
    defaults = (None, None, RETRIEVED, "ok")
    return valid_citation(_frame([row + defaults[len(row):] for row in rows]), CFG)


@pytest.mark.parametrize("text", [
    "Refunds take 5-7 days (see https://docs.acme.example/billing/refunds).",
    "Refunds take 5-7 days [1].\n\nSources:\n[1] https://docs.acme.example/billing/refunds",
    "Annual plans are refunded pro rata [DOC-1042].",
    "Both [1] [2].\n\nSources:\n[1] https://docs.acme.example/billing/refunds/\n[2] DOC-1042",
])
def test_valid_citations_in_every_format_pass(text):
    out = _score((text, True))
    assert out["passed"].to_list() == [True], out["explanation"].to_list()
    assert out["score"][0] == 1.0


@pytest.mark.parametrize(("text", "named"), [
    ("See https://acme-helpdesk.example.net/refund-policy.", "acme-helpdesk.example.net/refund-policy (domain not in the source catalog)"),
    ("Annual plans [DOC-2345].", "DOC-2345 (unknown document id, not retrieved)"),
    ("Reset it (see https://help.acme.example/articles/reset-password).", "reset-password (not retrieved)"),
    ("Trick https://docs.acme.example@evil.example.com/x", "evil.example.com/x (domain not in the source catalog)"),
    ("Lookalike https://docs.acme.example.evil.io/refunds", "docs.acme.example.evil.io/refunds (domain not in"),
    ("Fact [1] and fact [2].\n\nSources:\n[1] https://docs.acme.example/billing/refunds", "no entry in the sources list: [2]"),
    ("Fact [1].\n\nSources:\n[1] Our refund policy page", "no entry in the sources list: [1]"),
    ("No sources at all.", "no citation"),
])
def test_invalid_or_missing_citations_fail_and_are_named(text, named):
    out = _score((text, True))
    assert out["passed"].to_list() == [False]
    assert named in out["explanation"][0]


def test_subdomain_of_an_allowed_domain_is_valid_without_retrieval():
    out = _score(("See https://eu.docs.acme.example/billing/refunds.", True, None, "ok"))
    assert out["passed"].to_list() == [True]


def test_doc_id_without_retrieval_needs_the_configured_ids():
    frame = _frame([("Per [DOC-1042].", True, [], "ok"), ("Per [POLICY-7].", True, [], "ok")])
    assert valid_citation(frame, CFG)["passed"].to_list() == [False, False]
    cfg = ScorersConfig(valid_citation=CitationScorer(allowed_domains=["docs.acme.example"], source_ids=["POLICY-7"]))
    assert valid_citation(frame, cfg)["passed"].to_list() == [False, True]


def test_not_applicable_and_error_rows():
    out = _score(("https://evil.example.com", None), ("https://evil.example.com", False),
                 ("x", True, RETRIEVED, "error"))
    assert out["passed"].to_list() == [None, None, None]
    assert out["score"].to_list() == [None, None, None]
    assert out["explanation"][2] == "no response: status error"


def test_index_inside_code_is_not_a_reference():
    text = "See https://docs.acme.example/billing/refunds.\n```python\nx = items[1]\n```"
    assert _score((text, True))["passed"].to_list() == [True]


def test_score_frame_long_format_keeps_row_order_and_types():
    frame = _frame([("See https://docs.acme.example/billing/refunds", True, RETRIEVED, "ok"), ("hi", False, None, "ok")])
    frame = frame.with_columns(pl.lit("p").alias("prompt"), pl.lit("qa").alias("task_type"), pl.lit(None, dtype=pl.Boolean).alias("should_refuse"))
    out = score_frame(frame, CFG)
    assert out.schema == pl.Schema(SCORES_SCHEMA)
    assert set(out["scorer"]) == {"valid_citation", "refusal_policy", "tone_policy"}
    cit = out.filter(pl.col("scorer") == "valid_citation")
    assert cit["item_id"].to_list() == ["0", "1"] and cit["passed"].to_list() == [True, None]
    assert cit["scorer_version"].to_list() == ["1", "1"]


def test_registry_rejects_a_duplicate_name_and_bad_output(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # test scorers vanish afterwards
    assert {"valid_citation", "refusal_policy", "tone_policy", "llm_judge"} <= set(registered())
    with pytest.raises(ValueError, match="already registered"):
        scorer(name="valid_citation", version="9")(lambda frame, cfg: frame)

    @scorer(name="_test_bad_rows", version="1")
    def bad(frame, cfg):
        return pl.DataFrame({"passed": [True], "score": [1.0], "explanation": ["x"]})

    with pytest.raises(ValueError, match="returned 1 rows for 2 input rows"):
        bad(_frame([("a", True, None, "ok"), ("b", True, None, "ok")]), CFG)
    with pytest.raises(ValueError, match="calls a model"):
        score_frame(_frame([("a", True, None, "ok")]), CFG, names=["llm_judge"])


def test_vectorised_on_many_rows():
    texts = [f"Fact [{1}].\n\nSources:\n[1] https://docs.acme.example/billing/refunds" if i % 2 else f"See https://x{i}.example.org/a" for i in range(20_000)]
    out = valid_citation(_frame([(t, True, RETRIEVED, "ok") for t in texts]), CFG)
    assert out["passed"].sum() == 10_000 and out.height == 20_000
