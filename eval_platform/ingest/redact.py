"""PII redaction over polars string columns, safe inside JSON text.

Matches become typed placeholders: [EMAIL], [PHONE], [CARD], [API_KEY], [BEARER_TOKEN], [IP]. One union
regex finds the few rows that may hold PII; only those rows run the replacement chain (polars regexes,
plus Python for the two checks a regex cannot do: Luhn for cards, context for IPs).

Decisions (README "PII redaction"):
- Columns may hold JSON text (`messages`), so a match never starts inside an escape: `\\njane@x.com`
  keeps its `\\n`, and placeholders contain no character that needs escaping.
- Cards: 13-19 digits, optionally grouped by single spaces or dashes, that pass the Luhn check; other
  long numbers (order numbers, ids) are left alone.
- Phones: North-American `555-123-4567` / `(555) 123-4567` / `+1 555 123 4567` shapes, and international
  numbers written with a leading `+` and separators. A bare run of digits is never a phone (order numbers).
- IPv4: four dotted octets, each <= 255, not preceded by `v`, `version` or `ver`, and not part of a longer
  dotted number; so `1.2.3.4` alone IS redacted (indistinguishable from an address), `v1.2.3.4` is not.
- Dates, ISO timestamps, prices, version strings with fewer than four parts and URLs without PII pass through.
"""

from __future__ import annotations

import hashlib
import re

import polars as pl

# A match may start after the start of text, a JSON escape, or any character that is not a word char or `\`.
_ESC = r'\\(?:[nrtbf"/\\]|u[0-9a-fA-F]{4})'
_LB = rf"(^|{_ESC}|[^\w\\])"

_BEARER = r"(?i)(?-u:\b)(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
_API_KEY = (
    r"(?:sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,})(?-u:\b)"
)
# a character of an address, or its JSON escape (`jos\\u00e9@...` as an ASCII-escaping logger writes it)
_U = r"\\u[0-9a-fA-F]{4}"
_EMAIL = rf"(?:[\w.%+-]|{_U})+@(?:[\w-]|{_U})+(?:\.(?:[\w-]|{_U})+)*\.[A-Za-z]{{2,}}(?-u:\b)"
_PHONE = (
    r"(?:(?:\+1[ .-]?)?(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}"
    r"|\+[0-9]{1,3}[ .-]\(?[0-9]{1,4}\)?(?:[ .-][0-9]{2,8}){1,4})(?-u:\b)"
)
_CARD_OR_IP_HINT = r"[0-9](?:[ -]?[0-9]){12}|[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
# One cheap pass over every row (a superset of every pattern, no word boundaries so the lazy DFA never
# gives up on non-ASCII text): a row that matches none of these cannot change.
_ANY = "|".join((
    r"(?i:bearer)\s", r"sk-[A-Za-z0-9_-]{16}", r"AKIA[0-9A-Z]{16}", r"gh[pousr]_[A-Za-z0-9]{20}", "github_pat_",
    r"xox[abposr]-", r"@(?:[\w-]|\\u[0-9a-fA-F]{4})+\.", r"[0-9]{3}[ .-][0-9]{4}", r"\+[0-9]{1,3}[ .-]", _CARD_OR_IP_HINT,
))
# For a raw JSON line: also any escape that decodes to other characters (`\u0040` is `@`), so a row whose
# raw line does not match cannot hold PII in any decoded or re-serialised column.
RAW_HINT = _ANY + r"|\\u|\\/"

# Python side (candidate rows only): lookbehind keeps escapes and longer numbers intact. Each pattern
# opens with `(?=[0-9])` so the lookbehinds run only at digits (4x faster on long texts, same matches).
_PY_LB = r"(?:(?<=\\[nrtbf])|(?<![\w.\\-]))"
_PY_CARD = re.compile(r"(?=[0-9])" + _PY_LB + r"([0-9](?:[ -]?[0-9]){12,18})(?![\w]|[.,][0-9])")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# "version 1.2.3.4" is a version, "server 1.2.3.4" an address: the prefix must start a word (or follow an escape)
_NOT_VERSION = "".join(rf"(?<!\b{w})(?<!\\[nrtbf]{w})" for w in ("version ", "version: ", "ver ", r"ver\. "))
_PY_IP = re.compile(r"(?i)(?=[0-9])" + _NOT_VERSION + _PY_LB + rf"{_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.[0-9])")



def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"[ -]", "", match.group(1))
    return "[CARD]" if luhn_ok(digits) else match.group(0)


def _redact_cards_and_ips(text: str | None) -> str | None:
    if text is None:
        return None
    return _PY_IP.sub("[IP]", _PY_CARD.sub(_card, text))


def _replace_where(values: pl.Series, hint: str, apply) -> pl.Series:
    """Apply `apply` only to the rows that match `hint` (a cheap regex), leaving the rest untouched."""
    rows = values.str.contains(hint).fill_null(False).arg_true()
    if rows.len() == 0:
        return values
    return values.scatter(rows, apply(values.gather(rows)))


def _redact_candidates(values: pl.Series) -> pl.Series:
    """The full replacement chain, for rows that the union regex flagged; each step only where it may match."""
    steps = (
        (r"(?i:bearer)\s", lambda v: v.str.replace_all(_BEARER, "${1} [BEARER_TOKEN]")),
        (r"sk-|AKIA|gh[pousr]_|github_pat_|xox[abposr]-", lambda v: v.str.replace_all(_LB + _API_KEY, "${1}[API_KEY]")),
        ("@", lambda v: v.str.replace_all(_LB + _EMAIL, "${1}[EMAIL]")),
        (_CARD_OR_IP_HINT, lambda v: pl.Series(v.name, [_redact_cards_and_ips(x) for x in v.to_list()], dtype=pl.String)),
        (r"[0-9]{3}[ .-][0-9]{4}|\+[0-9]{1,3}[ .-]", lambda v: v.str.replace_all(_LB + _PHONE, "${1}[PHONE]")),
    )
    for hint, apply in steps:
        values = _replace_where(values, hint, apply)
    return values


def _redact_series(values: pl.Series, candidates: pl.Series | None = None) -> pl.Series:
    if values.dtype != pl.String:
        values = values.cast(pl.String)
    hits = values.str.contains(_ANY).fill_null(False) if candidates is None else candidates
    rows = hits.arg_true()
    if rows.len() == 0:
        return values
    return values.clone().scatter(rows, _redact_candidates(values.gather(rows)))


def redact_expr(col: str | pl.Expr) -> pl.Expr:
    """An expression that redacts PII in a string column (name kept)."""
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.map_batches(_redact_series, return_dtype=pl.String)


def _redact_lists(values: pl.Series, candidates: pl.Series | None) -> pl.Series:
    """Redact every string of a List(String) column (only the candidate rows, when given)."""
    frame = values.to_frame("v").with_row_index("_row")
    subset = frame if candidates is None else frame.filter(candidates)
    if subset.height == 0:
        return values
    exploded = subset.explode("v")
    redacted = exploded.with_columns(_redact_series(exploded.get_column("v")).alias("v"))
    grouped = redacted.group_by("_row").agg(new="v")
    # empty and null lists keep their original value (how explode treats them varies between polars versions)
    return frame.join(grouped, on="_row", how="left", maintain_order="left").select(
        pl.when(pl.col("v").list.len().fill_null(0) == 0).then("v").otherwise(pl.coalesce("new", "v")).alias(values.name)
    ).to_series().cast(values.dtype)


def pseudonymise_series(values: pl.Series, candidates: pl.Series | None = None) -> pl.Series:
    """Redact an identifier column without merging distinct ids: a changed value keeps a short hash of the
    original (`[EMAIL]#3fa2c81b09d4`), so two sessions keyed by different e-mail addresses stay two sessions."""
    redacted = _redact_series(values, candidates)
    changed = (redacted != values).fill_null(False)
    if not changed.any():
        return redacted
    digest = values.filter(changed).map_elements(
        lambda v: hashlib.sha256(v.encode()).hexdigest()[:12], return_dtype=pl.String)
    return redacted.scatter(changed.arg_true(), redacted.filter(changed) + "#" + digest)


def redact_frame(df: pl.DataFrame, columns: list[str] | tuple[str, ...], candidates: pl.Series | None = None,
                 id_columns: list[str] | tuple[str, ...] = ()) -> pl.DataFrame:
    """Redact the given text columns of `df` (String or List(String); absent columns are ignored).

    `id_columns` are pseudonymised instead (`pseudonymise_series`). `candidates` (Boolean, one per row)
    lets a caller that already scanned the source text with `RAW_HINT` skip the per-column scan: rows
    marked False are left as they are.
    """
    present = [c for c in columns if c in df.columns]
    ids = [c for c in id_columns if c in df.columns]
    if not (present or ids) or df.height == 0:
        return df
    lists = [c for c in present if isinstance(df.schema[c], pl.List)]
    texts = [c for c in present if c not in lists]
    if candidates is None and not lists and not ids:
        return df.with_columns(redact_expr(c) for c in texts)
    return df.with_columns(
        *(_redact_series(df.get_column(c), candidates).alias(c) for c in texts),
        *(_redact_lists(df.get_column(c), candidates).alias(c) for c in lists),
        *(pseudonymise_series(df.get_column(c).cast(pl.String), candidates).alias(c) for c in ids),
    )
