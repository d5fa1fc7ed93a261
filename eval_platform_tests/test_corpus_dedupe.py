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
    assert [t for group in flt.admitted.values() for t in group] == texts[:2]
    strict = ParaphraseFilter(1.0)
    assert [strict.admit(t) for t in texts[:3]] == [True, True, True]


def test_prompts_with_different_numbers_are_not_paraphrases():
    from eval_platform.corpus.dedupe import ParaphraseFilter, normalise

    keep = ParaphraseFilter(0.9)
    a, b, c = normalise([
        "I have 10 apples, eat 8 of them and buy 30 more. How many apples now?",
        "I have 12 apples, eat 3 of them and buy 5 more. How many apples now?",
        "i have 10 apples, eat 8 of them and buy 30 more - how many apples now",
    ])
    assert keep.admit(a) and keep.admit(b)
    assert not keep.admit(c)  # same question, same numbers
