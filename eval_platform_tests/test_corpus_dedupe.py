"""Near-duplicate normalisation and paraphrase filtering (eval_platform.corpus.dedupe)."""

from __future__ import annotations

from eval_platform.corpus.dedupe import ParaphraseFilter, normalise, similarity


def test_normalisation_drops_case_punctuation_whitespace_and_placeholders():
    got = normalise(["  How do I reset\tmy PASSWORD?!", "Mail [EMAIL] or <PHONE_NUMBER> {{API_KEY}} [redacted:token]", None])
    assert got == ["how do i reset my password", "mail or", ""]


def test_normalisation_keeps_citations_and_document_ids():
    assert normalise(["see [1] and [DOC-1042]"]) == ["see 1 and doc 1042"]


def test_paraphrases_are_similar_and_unrelated_prompts_are_not():
    a, b, c = normalise(["How do I reset my password?", "how can I reset my password", "Refund my order from May"])
    assert similarity(a, b) >= 0.9
    assert similarity(a, c) < 0.5


def test_filter_admits_the_first_of_a_paraphrase_pair_only():
    texts = normalise(["How do I reset my password?", "Refund my order from May", "how can I reset my password", ""])
    flt = ParaphraseFilter(0.9)
    assert [flt.admit(t) for t in texts] == [True, True, False, True]
    assert flt.admitted == texts[:2]
    strict = ParaphraseFilter(1.0)
    assert [strict.admit(t) for t in texts[:3]] == [True, True, True]
