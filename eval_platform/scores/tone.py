"""tone_policy: no banned phrases, no forbidden self-references, no shouting, no blaming the user.

Applies to every response. Phrases match case-insensitively on word boundaries; `blame_patterns` are
case-insensitive regexes (Rust syntax). Shouting is either "!!!" or, over prose with at least
MIN_SHOUT_LETTERS letters in words longer than 3 characters (code spans excluded: SQL keywords are not
shouting), a share of capitals above `max_caps_ratio`. The explanation names every rule broken with the
offending text; the score is the share of the four rules kept.
"""

from __future__ import annotations

import polars as pl

from eval_platform.config import ScorersConfig, ToneScorer
from eval_platform.scores.citation import CODE  # text inside code is not prose, for either scorer
from eval_platform.scores.registry import scorer

MIN_SHOUT_LETTERS = 20
RULES = 4  # banned phrase, self-reference, shouting, blame
# a run of at least 4 letters holding at least 3 capitals (3 capitals, and one more letter before, between or after)
CAPS_WORD = (
    r"\p{L}\p{Lu}\p{L}*\p{Lu}\p{L}*\p{Lu}|\p{Lu}\p{L}+\p{Lu}\p{L}*\p{Lu}|"
    r"\p{Lu}\p{L}*\p{Lu}\p{L}+\p{Lu}|\p{Lu}\p{L}*\p{Lu}\p{L}*\p{Lu}\p{L}"
)


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
    for pattern in patterns:  # checked when the config was loaded (config.Regex)
        match = text.str.extract(f"(?i)({pattern})", 1)
        hits.append(pl.when(match.is_not_null()).then(pl.format('blames the user "{}"', match)))
    return hits


def _caps_ratio(prose: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(letters, capitals) in the words of at least 4 letters."""
    letters = prose.str.extract_all(r"\p{L}{4,}").list.join("")
    return letters.str.len_chars(), letters.str.count_matches(r"\p{Lu}")


def _shouting(frame: pl.DataFrame, max_caps_ratio: float) -> pl.DataFrame:
    """Per row: the shouting hits. The capitals ratio is only computed for rows with a CAPS_WORD: a ratio
    above 0.5 needs one (some counted word reaches the average, and 4+ letters over 0.5 means 3+ capitals)."""
    prose = pl.col("_text").str.replace_all(CODE, " ")
    rows = frame.select(pl.col("_text"), prose.alias("_prose")).with_row_index("_row")
    candidates = pl.col("_prose").str.contains(CAPS_WORD).fill_null(False)
    if max_caps_ratio < 0.5:  # the pre-filter's argument needs ratio > 0.5
        candidates = pl.lit(True)
    total, capitals = _caps_ratio(pl.col("_prose"))
    ratios = rows.filter(candidates).select("_row", total.alias("_total"), (capitals / total).alias("_ratio"))
    caps = (pl.col("_total") >= MIN_SHOUT_LETTERS) & (pl.col("_ratio") > max_caps_ratio)
    return rows.join(ratios, on="_row", how="left", maintain_order="left").select(
        pl.when(caps).then(pl.format("shouting: {}% capitals", (pl.col("_ratio") * 100).round(0).cast(pl.Int64))).alias("_caps"),
        pl.when(pl.col("_prose").str.contains(r"!{3,}")).then(pl.lit('shouting "!!!"')).alias("_bangs"),
    )


def _rule_hits(texts: pl.DataFrame, rules: dict[str, list[pl.Expr]], policy: ToneScorer) -> pl.DataFrame:
    """One column per phrase / blame hit, in `texts` order. One combined regex pass finds the rows that
    can hit at all; the per-rule expressions run on those only (each once: an eager select re-evaluates)."""
    named = [h.alias(f"_{rule}{i}") for rule, exprs in rules.items() for i, h in enumerate(exprs)]
    if not named:
        return pl.repeat(None, texts.height, dtype=pl.String, eager=True).alias("_none").to_frame()
    alternatives = [phrase_regex(p) for p in policy.banned_phrases + policy.forbidden_self_references if p.strip()]
    alternatives += [f"(?i){b}" for b in policy.blame_patterns]
    rows = texts.with_row_index("_row")
    candidates = rows.filter(pl.col("_text").str.contains("|".join(f"(?:{a})" for a in alternatives)).fill_null(False))
    found = candidates.select("_row", *named)
    return rows.select("_row").join(found, on="_row", how="left", maintain_order="left").drop("_row")


@scorer(name="tone_policy", version="1")
def tone_policy(frame: pl.DataFrame, cfg: ScorersConfig) -> pl.DataFrame:
    """Keeps the tone policy: no banned phrases, self-references, shouting or blaming the user."""
    policy = cfg.tone_policy
    text = pl.col("_text")
    texts = frame.select(pl.col("response").str.replace_all(r"[\u2018\u2019]", "'").alias("_text"))
    rules = {
        "banned": _phrase_hits(text, policy.banned_phrases, "banned phrase"),
        "self_refs": _phrase_hits(text, policy.forbidden_self_references, "self-reference"),
        "blame": _blame_hits(text, policy.blame_patterns),
    }
    hits = pl.concat([_rule_hits(texts, rules, policy), _shouting(texts, policy.max_caps_ratio)], how="horizontal")
    columns = {rule: [f"_{rule}{i}" for i in range(len(exprs))] for rule, exprs in rules.items()}
    columns["shouting"] = ["_caps", "_bangs"]
    order = [*columns["banned"], *columns["self_refs"], *columns["shouting"], *columns["blame"]]

    def broken(names: list[str]) -> pl.Expr:
        return pl.any_horizontal(pl.lit(False), *(pl.col(n).is_not_null() for n in names)).cast(pl.Int8)

    found = pl.concat_str(*order, separator="; ", ignore_nulls=True)  # "" when no rule is broken
    n_broken = sum((broken(names) for names in columns.values()), pl.lit(0, dtype=pl.Int8))
    scored = hits.select(found.alias("_found"), n_broken.alias("_n_broken"), frame.get_column("response").is_not_null().alias("_has_text"))
    has_text, clean = pl.col("_has_text"), pl.col("_found") == ""
    return scored.select(
        pl.when(has_text).then(clean).alias("passed"),
        pl.when(has_text).then(1.0 - pl.col("_n_broken").cast(pl.Float64) / RULES).alias("score"),
        pl.when(~has_text).then(pl.lit("not applicable: no response text"))
        .when(clean).then(pl.lit("no tone violation"))
        .otherwise(pl.col("_found"))
        .alias("explanation"),
    )
