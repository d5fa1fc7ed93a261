import polars as pl

from eval_platform.publish.metadata import escape_md, markdown_preview


def test_hostile_log_text_is_escaped_for_the_ui():
    hostile = "\x1b[31mred\x1b[0m | <script>alert(1)</script> [click](http://evil.example) **bold** `code`\n# heading"
    text = escape_md(hostile)
    assert "\x1b" not in text and "\n" not in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\|" in text and "\\[click\\]" in text and "\\*\\*bold\\*\\*" in text and "\\`code\\`" in text
    assert escape_md("x" * 500, limit=20).endswith("…") and len(escape_md("x" * 500, limit=20)) == 20


def test_markdown_preview_escapes_every_cell_and_counts_the_rest():
    frame = pl.DataFrame({"routing_path": ["a|b", "c"], "prompt": ["<img src=x>", None]})
    md = markdown_preview(frame, rows=1)
    assert md.splitlines()[2] == "| a\\|b | &lt;img src=x&gt; |"
    assert "_1 more row(s)_" in md
    assert markdown_preview(frame.clear()) == "_no rows_"


def _cell_separators(row: str) -> int:
    """Pipes a markdown table treats as separators: those not escaped by an odd run of backslashes."""
    count, backslashes = 0, 0
    for char in row:
        if char == "|" and backslashes % 2 == 0:
            count += 1
        backslashes = backslashes + 1 if char == "\\" else 0
    return count


def test_a_backslash_cannot_unescape_a_cell_separator():
    row = markdown_preview(pl.DataFrame({"a": ["x\\|y"], "b": ["z"]})).splitlines()[-1]
    assert _cell_separators(row) == 3, row  # | a | b |: the log text's pipe stays text
