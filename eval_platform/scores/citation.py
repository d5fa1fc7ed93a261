"""valid_citation: the response cites sources, and every cited source is real, allowed and retrieved.

Applies where `needs_citation` is true. Cited sources are every URL in the response, every document
id (`DOC-1234`, or an id from `source_ids`) and every numbered reference "[n]", which must resolve to
a line "[n] <url or id>" (the "Sources:" list). A source is valid when it is a well-formed URL on an
allowed domain (or a subdomain of one), or an id from `source_ids`, or a DOC id that was retrieved;
and, when the request retrieved sources, it is one of them. Vectorised: citations are extracted with
regexes, exploded to one row per cited source, judged with expressions and aggregated back.
"""

from __future__ import annotations

import polars as pl

from eval_platform.config import CitationScorer, ScorersConfig
from eval_platform.scores.registry import scorer

URL = r"(?i)https?://[^\s<>\"'`\[\]{}|\\^]+"
URL_TRAILING = ".,;:!?)'\""  # sentence punctuation glued to a URL is not part of it
DOC_ID = r"\bDOC-\d+\b"
CODE = r"(?s)```.*?```|`[^`\n]*`"  # "[1]" inside code is an index, not a reference
REFERENCE = r"\[\d{1,3}\]"
HOST = r"(?i)^https?://(?:[^/?#@\s]*@)?([^/?#:\s]+)"  # the host after any user-info ("a.com@evil.com")
WELL_FORMED_HOST = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"


def _id_pattern(cfg: CitationScorer) -> str:
    extra = [rf"\b{pl.escape_regex(i)}\b" if i[-1:].isalnum() else pl.escape_regex(i) for i in cfg.source_ids if i]
    return "|".join([DOC_ID, *extra])


def _entry_pattern(id_pattern: str) -> str:
    """A line of the sources list: "[n]" at the start of a line, then a URL or an id on that line."""
    return rf"(?m)^[ \t]*[-*]?[ \t]*\[\d{{1,3}}\][^\n]*?(?:https?://|{id_pattern})"


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.strip_chars_end("/").str.to_lowercase()


def _digits(expr: pl.Expr) -> pl.Expr:
    return expr.list.eval(pl.element().str.extract(r"\[(\d{1,3})\]", 1))


def extract_citations(frame: pl.DataFrame, cfg: CitationScorer) -> pl.DataFrame:
    """Per row (`_row`): cited urls, ids, references and resolvable source-list entries."""
    text = pl.col("response").fill_null("")
    prose = text.str.replace_all(CODE, " ")
    ids = _id_pattern(cfg)
    return frame.select(
        "_row",
        text.str.extract_all(URL).list.eval(pl.element().str.strip_chars_end(URL_TRAILING)).alias("urls"),
        text.str.replace_all(URL, " ").str.extract_all(ids).alias("ids"),
        _digits(prose.str.extract_all(REFERENCE)).list.unique().alias("refs"),
        _digits(prose.str.extract_all(_entry_pattern(ids))).alias("entries"),
    )


def judge_sources(cited: pl.DataFrame, cfg: CitationScorer) -> pl.DataFrame:
    """One row per (row, cited source) with `problem` (NULL when the source is valid)."""
    tokens = pl.concat(
        [
            cited.select("_row", pl.col("urls").alias("source"), pl.lit("url").alias("kind")),
            cited.select("_row", pl.col("ids").alias("source"), pl.lit("id").alias("kind")),
        ]
    ).explode("source").drop_nulls("source").unique(["_row", "source"], maintain_order=True)
    host = pl.col("source").str.extract(HOST, 1).str.to_lowercase().str.strip_chars_end(".")
    domains = [d.lower().strip(".") for d in cfg.allowed_domains]
    is_url = pl.col("kind") == "url"
    # host, allowed and retrieved are materialised once: an eager select would re-evaluate each use
    facts = tokens.join(cited.select("_row", "retrieved"), on="_row", how="left").with_columns(
        host.alias("_host"), pl.col("retrieved").list.contains(_norm(pl.col("source"))).fill_null(False).alias("_retrieved")
    )
    h = pl.col("_host")
    allowed = h.is_in(domains) | pl.any_horizontal(pl.lit(False), *(h.str.ends_with("." + d) for d in domains))
    retrieved = pl.col("_retrieved")
    has_retrieved = pl.col("retrieved").list.len().fill_null(0) > 0
    problem = (
        pl.when(is_url & ~h.str.contains(WELL_FORMED_HOST).fill_null(False)).then(pl.lit("malformed URL"))
        .when(is_url & ~allowed.fill_null(False)).then(pl.lit("domain not in the source catalog"))
        .when(~is_url & ~pl.col("source").is_in(cfg.source_ids) & ~retrieved).then(pl.lit("unknown document id, not retrieved"))
        .when(has_retrieved & ~retrieved).then(pl.lit("not retrieved"))
    )
    return facts.with_columns(problem.alias("problem")).drop("_host", "_retrieved")


@scorer(name="valid_citation", version="1")
def valid_citation(frame: pl.DataFrame, cfg: ScorersConfig) -> pl.DataFrame:
    """Cites at least one source, and every cited source is valid and (when known) retrieved."""
    rows = frame.select("response", "retrieved_sources", "needs_citation").with_row_index("_row")
    applies = pl.col("needs_citation").fill_null(False)
    judged = _judge_rows(rows.filter(applies), cfg.valid_citation)  # only rows needing a citation: less regex work
    return rows.select("_row", applies.alias("_applies")).join(judged, on="_row", how="left", maintain_order="left").select(
        pl.when(pl.col("_applies")).then(pl.col("passed")).alias("passed"),
        pl.when(pl.col("_applies")).then(pl.col("score")).alias("score"),
        pl.when(pl.col("_applies")).then(pl.col("explanation")).otherwise(pl.lit("not applicable: no citation required")).alias("explanation"),
    )


def _judge_rows(rows: pl.DataFrame, settings: CitationScorer) -> pl.DataFrame:
    """passed / score / explanation per `_row` of rows that need a citation."""
    rows = rows.with_columns(pl.col("retrieved_sources").list.eval(_norm(pl.element())).alias("retrieved"))
    cited = extract_citations(rows, settings).join(rows.select("_row", "retrieved"), on="_row", how="left")
    per_source = judge_sources(cited, settings)
    bad = pl.col("problem").is_not_null()
    per_row = per_source.group_by("_row").agg(
        pl.len().alias("n_cited"),
        bad.sum().alias("n_bad"),
        pl.format("{} ({})", "source", "problem").filter(bad).str.join("; ").alias("bad_text"),
    )
    unresolved = pl.col("refs").list.set_difference(pl.col("entries")).list.sort()
    joined = cited.with_columns(unresolved.alias("unresolved")).join(per_row, on="_row", how="left").with_columns(
        pl.col("n_cited").fill_null(0), pl.col("n_bad").fill_null(0), pl.col("unresolved").list.len().alias("n_unresolved")
    )
    cites = (pl.col("n_cited") > 0) | (pl.col("n_unresolved") > 0)
    ok = (pl.col("n_bad") == 0) & (pl.col("n_unresolved") == 0)
    refs_text = pl.lit("[") + pl.col("unresolved").list.join("], [") + pl.lit("]")
    problems = pl.concat_str(
        pl.when(pl.col("n_bad") > 0).then(pl.lit("invalid citations: ") + pl.col("bad_text")),
        pl.when(pl.col("n_unresolved") > 0).then(pl.lit("references with no entry in the sources list: ") + refs_text),
        separator="; ", ignore_nulls=True,
    )
    return joined.select(
        "_row",
        pl.when(~cites).then(False).otherwise(ok).alias("passed"),
        pl.when(~cites).then(0.0)
        .otherwise((pl.col("n_cited") - pl.col("n_bad")) / (pl.col("n_cited") + pl.col("n_unresolved")))
        .alias("score"),
        pl.when(~cites).then(pl.lit("no citation"))
        .when(ok).then(pl.format("cites {} valid source(s)", "n_cited"))
        .otherwise(problems)
        .alias("explanation"),
    )
