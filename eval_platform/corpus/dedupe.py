"""Near-duplicate and paraphrase detection for corpus prompts.

Two prompts are near-duplicates when their normalised text is equal (lowercase, redaction placeholders
and punctuation removed, whitespace collapsed): that is a vectorised polars expression over a whole pool.
Two prompts are paraphrases when rapidfuzz's `token_set_ratio / 100` is at least the configured
threshold and they carry the same numbers: "what is 17 times 23" and "what is 19 times 31" share every
word but are different questions. `ParaphraseFilter` admits a prompt only if it paraphrases nothing
admitted before, so a slice never holds two paraphrases and the first one in the deterministic order wins.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import polars as pl
from rapidfuzz import fuzz, process

# Redaction placeholders such as [EMAIL], <PHONE_NUMBER>, [REDACTED], [redacted:api_key], {{EMAIL}}.
# Upper-case letters and underscores only, so citations like [1] and [DOC-1042] are kept.
PLACEHOLDER_PATTERN = r"(?:\[|<|\{\{)\s*(?:[A-Z][A-Z_]*(?::[A-Za-z_]+)?|(?i:redacted)[^\]>}]*)\s*(?:\]|>|\}\})"


def normalised_prompt(prompt: pl.Expr) -> pl.Expr:
    """Polars expression: the prompt as compared for near-duplicates ("" for a missing prompt)."""
    return (
        prompt.fill_null("")
        .str.replace_all(PLACEHOLDER_PATTERN, " ")
        .str.to_lowercase()
        .str.replace_all(r"[^\w\s]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def normalise(texts: Iterable[str | None]) -> list[str]:
    """`normalised_prompt` applied to plain strings (same rules, one code path)."""
    series = pl.Series("prompt", list(texts), dtype=pl.String)
    return series.to_frame().select(normalised_prompt(pl.col("prompt"))).to_series().to_list()


def similarity(a: str, b: str) -> float:
    """Paraphrase similarity in [0, 1] of two normalised prompts (token-set ratio)."""
    return fuzz.token_set_ratio(a, b) / 100.0


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers(text: str) -> tuple[str, ...]:
    """The numbers a prompt carries, sorted: prompts with different numbers are never paraphrases."""
    return tuple(sorted(_NUMBER.findall(text)))


class ParaphraseFilter:
    """Admit normalised prompts one at a time, refusing any that paraphrases one already admitted."""

    def __init__(self, threshold: float):
        self.cutoff = threshold * 100.0
        self.admitted: dict[tuple[str, ...], list[str]] = defaultdict(list)

    def is_paraphrase(self, text: str) -> bool:
        candidates = self.admitted.get(numbers(text)) if text else None
        if not candidates:
            return False
        # O(admitted) per query and admitted <= slice size; score_cutoff lets rapidfuzz skip hopeless pairs early
        return process.extractOne(text, candidates, scorer=fuzz.token_set_ratio, score_cutoff=self.cutoff) is not None

    def admit(self, text: str) -> bool:
        """Add `text` and return True unless it paraphrases an admitted prompt."""
        if self.is_paraphrase(text):
            return False
        if text:
            self.admitted[numbers(text)].append(text)
        return True
