"""PII redaction: what is caught, what must pass through untouched, and JSON text stays valid JSON."""

import json

import polars as pl
import pytest

from eval_platform.ingest.redact import luhn_ok, redact_expr, redact_frame

CAUGHT = [
    ("mail jane.doe+x@example.co.uk now", "mail [EMAIL] now"),
    ("call +1 (555) 123-4567 today", "call [PHONE] today"),
    ("or 555-123-4567.", "or [PHONE]."),
    ("(555) 123-4567", "[PHONE]"),
    ("intl +44 20 7946 0958", "intl [PHONE]"),
    ("card 4111 1111 1111 1111 ok", "card [CARD] ok"),
    ("card 4111-1111-1111-1111", "card [CARD]"),
    ("card 4111111111111111.", "card [CARD]."),
    ("key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx123456", "key [API_KEY]"),
    ("key=sk-abcdefghijklmnopqrstuv", "key=[API_KEY]"),
    ("AKIAIOSFODNN7EXAMPLE", "[API_KEY]"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token [API_KEY]"),
    ("slack xoxb-123456789012-abcdefghij", "slack [API_KEY]"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "Authorization: Bearer [BEARER_TOKEN]"),
    ("host 10.12.0.7 is down", "host [IP] is down"),
    ("server 10.12.0.7 is down", "server [IP] is down"),  # "ver " inside a word is no version prefix
    ("1.2.3.4", "[IP]"),  # a bare dotted quad is indistinguishable from an address (README)
    ("two: a@b.io, c@d.io", "two: [EMAIL], [EMAIL]"),
]
UNTOUCHED = [
    "see https://docs.acme.example/v2/page?id=1234567",
    "version 1.2.3.4", "v1.2.3.4", "ver 1.2.3.4", "release 1.2.3", "1.2.3.4.5",
    "on 2026-11-20T13:45:12.345Z", "date 2026-11-20", "at 13:45:12",
    "price $1,234.56", "total 1234.56 USD",
    "order ORD-2026-000123", "order #123456789012", "ticket 5551234567",
    "bad card 4111 1111 1111 1112",  # fails Luhn
    "ip 256.1.1.1", "task-management-system-overview-v2",
    "def f(x):\n    return x ** 2 + 3.14  # comment", "DOC-1042 and [DOC-1042]",
]


def _redact(values: list[str | None]) -> list[str | None]:
    return pl.DataFrame({"t": values}, schema={"t": pl.String}).select(redact_expr("t")).get_column("t").to_list()


@pytest.mark.parametrize(("text", "expected"), CAUGHT)
def test_caught(text, expected):
    assert _redact([text]) == [expected]


@pytest.mark.parametrize("text", UNTOUCHED)
def test_untouched(text):
    assert _redact([text]) == [text]


@pytest.mark.parametrize(("text", "expected"), CAUGHT + [(t, t) for t in UNTOUCHED])
def test_inside_json_strings_after_escapes(text, expected):
    for prefix in ("", "line one\n", "tab\t", 'quote "', "caf\u00e9 ", "slash/"):
        messages = json.dumps([{"role": "user", "content": prefix + text}])
        redacted = _redact([messages])[0]
        assert json.loads(redacted) == [{"role": "user", "content": prefix + expected}], (prefix, redacted)


def test_unicode_escaped_json_keeps_escapes_valid():
    messages = json.dumps([{"role": "user", "content": "caf\u00e9 jane@x.io \u2013 555-123-4567"}], ensure_ascii=True)
    assert json.loads(_redact([messages])[0])[0]["content"] == "caf\u00e9 [EMAIL] \u2013 [PHONE]"


def test_nulls_and_rows_without_pii_pass_through():
    assert _redact([None, "plain text", ""]) == [None, "plain text", ""]


def test_redact_frame_touches_only_named_columns():
    df = pl.DataFrame({"a": ["x@y.io"], "b": ["x@y.io"], "n": [1]})
    out = redact_frame(df, ["a", "missing"])
    assert out.row(0) == ("[EMAIL]", "x@y.io", 1)


def test_many_rows_mixed():
    texts = [f"row {i} plain" if i % 7 else f"row {i} mail u{i}@acme.example" for i in range(1000)]
    out = _redact(texts)
    assert out[7] == "row 7 mail [EMAIL]" and out[8] == "row 8 plain"
    assert sum("[EMAIL]" in t for t in out) == len(range(0, 1000, 7))


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")


def test_list_columns_are_redacted_element_by_element():
    df = pl.DataFrame({"tags": [["user:jane@x.io", "vip"], [], None, ["plain"], ["ip 10.0.0.7", None]]},
                      schema={"tags": pl.List(pl.String)})
    out = redact_frame(df, ["tags"])
    assert out.get_column("tags").to_list() == [["user:[EMAIL]", "vip"], [], None, ["plain"], ["ip [IP]", None]]


def test_list_columns_respect_candidates():
    df = pl.DataFrame({"tags": [["a@b.io"], ["c@d.io"]]})
    out = redact_frame(df, ["tags"], candidates=pl.Series([False, True]))
    assert out.get_column("tags").to_list() == [["a@b.io"], ["[EMAIL]"]]


def test_id_columns_are_pseudonymised_not_merged():
    df = pl.DataFrame({"session_id": ["jane@x.io", "bob@y.io", "jane@x.io", "s_0001", None]})
    ids = redact_frame(df, [], id_columns=["session_id"]).get_column("session_id").to_list()
    assert all(i is None or "@" not in i for i in ids)
    assert ids[0].startswith("[EMAIL]#") and ids[0] == ids[2] and ids[0] != ids[1]
    assert ids[3:] == ["s_0001", None]


@pytest.mark.parametrize("address", ["jos\u00e9.garc\u00eda@example.com", "jane@ex\u00e4mple.de", "\u00e5sa@b\u00fccher.example"])
def test_an_address_written_with_json_escapes_is_redacted_whole(address):
    """An ASCII-escaping logger writes `jos\\u00e9...@...`: no part of the address may survive in raw text."""
    raw = json.dumps({"turn": "two", "messages": [{"role": "user", "content": f"mail {address} ok"}]})
    assert "\\u00" in raw  # escaped, as json.dumps does by default
    redacted = _redact([raw])[0]
    assert json.loads(redacted)["messages"][0]["content"] == "mail [EMAIL] ok", redacted
