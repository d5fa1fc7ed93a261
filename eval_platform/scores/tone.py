"""tone_policy: no banned phrases, no forbidden self-references, no shouting, no blaming the user.

Applies to every response. Phrases match case-insensitively on word boundaries; `blame_patterns` are
case-insensitive regexes (Rust syntax). Shouting is either "!!!" or, over prose with at least
MIN_SHOUT_LETTERS letters in words longer than 3 characters (code spans excluded: SQL keywords are not
shouting), a share of capitals above `max_caps_ratio`. The explanation names every rule broken with the
offending text; the score is the share of the four rules kept.
"""

from __future__ import annotations

import polars as pl

from eval_platform.config import ScorersConfig
from eval_platform.scores.registry import scorer

MIN_SHOUT_LETTERS = 20
RULES = 4  # banned phrase, self-reference, shouting, blame
CODE = r"(?s)```.*?```|`[^`\n]*`"


def phrase_regex(phrase: str) -> str:
    """A case-insensitive literal phrase, bounded by word edges where it starts or ends with a letter."""
    body = pl.escape_regex(phrase.strip())
    start = r"\b" if phrase.strip()[:1].isalnum() else ""
    end = r"\b" if phrase.strip()[-1:].isalnum() else ""
    return f"(?i){start}{body}{end}"


def _phrase_hits(text: pl.Expr, phrases: list[str], label: str) -> list[pl.Expr]:
    return [pl.when(text.str.contains(phrase_regex(p))).then(pl.lit(f'{label} "{p}"')) for p in phrases if p.strip()]


def _blame_hits(text: pl.Expr, patterns: list[str]) -> list[pl.Expr]:
    hits = []
    for index, pattern in enumerate(patterns):
        try:
            pl.Series([""]).str.contains(pattern)
        except pl.exceptions.PolarsError as exc:
            raise ValueError(f"scorers.tone_policy.blame_patterns[{index}] {pattern!r}: not a usable regex: {exc}") from None
        match = text.str.extract(f"(?i)({pattern})", 1)
        hits.append(pl.when(match.is_not_null()).then(pl.format('blames the user "{}"', match)))
    return hits


def _shouting(text: pl.Expr, max_caps_ratio: float) -> list[pl.Expr]:
    prose = text.str.replace_all(CODE, " ")
    letters = prose.str.extract_all(r"\p{L}{4,}").list.join("")
    total = letters.str.len_chars()
    ratio = letters.str.count_matches(r"\p{Lu}") / total
    caps = (total >= MIN_SHOUT_LETTERS) & (ratio > max_caps_ratio)
    return [
        pl.when(caps).then(pl.format("shouting: {}% capitals", (ratio * 100).round(0).cast(pl.Int64))),
        pl.when(prose.str.contains(r"!{3,}")).then(pl.lit('shouting "!!!"')),
    ]


@scorer(name="tone_policy", version="1")
def tone_policy(frame: pl.DataFrame, cfg: ScorersConfig) -> pl.DataFrame:
    """Keeps the tone policy: no banned phrases, self-references, shouting or blaming the user."""
    policy = cfg.tone_policy
    text = pl.col("response").str.replace_all(r"[\u2018\u2019]", "'")
    banned = _phrase_hits(text, policy.banned_phrases, "banned phrase")
    self_refs = _phrase_hits(text, policy.forbidden_self_references, "self-reference")
    shouting = _shouting(text, policy.max_caps_ratio)
    blame = _blame_hits(text, policy.blame_patterns)

    def broken(hits: list[pl.Expr]) -> pl.Expr:
        return pl.any_horizontal(pl.lit(False), *(h.is_not_null() for h in hits)).cast(pl.Int8)

    all_hits = banned + self_refs + shouting + blame
    found = pl.concat_list(pl.lit(None, dtype=pl.String), *all_hits).list.drop_nulls()
    n_broken = broken(banned) + broken(self_refs) + broken(shouting) + broken(blame)
    has_text = pl.col("response").is_not_null()
    return frame.select(
        pl.when(has_text).then(found.list.len() == 0).alias("passed"),
        pl.when(has_text).then(1.0 - n_broken.cast(pl.Float64) / RULES).alias("score"),
        pl.when(~has_text).then(pl.lit("not applicable: no response text"))
        .when(found.list.len() == 0).then(pl.lit("no tone violation"))
        .otherwise(found.list.join("; "))
        .alias("explanation"),
    )
