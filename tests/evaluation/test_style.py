"""Markdown counts of a response: headers, list items, bold spans; code fences count for nothing."""

from __future__ import annotations

import pytest

from airflow_mmc_provider.evaluation.style import MarkdownCounts, markdown_counts, response_style


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text, no markup", (0, 0, 0)),
        ("# Title\n## Part\n###### Six\n####### seven is not a header", (3, 0, 0)),
        ("#hashtag is not a header\n   # indented three is one\n    # four is code", (1, 0, 0)),
        ("- one\n* two\n+ three\n1. four\n2) five\n  - nested", (0, 6, 0)),
        ("-not an item\n* * *\n- - -\n---\n1.5 is a number", (0, 0, 0)),
        ("**bold** and __also__ and **two words**", (0, 0, 3)),
        ("** not bold ** and ****", (0, 0, 0)),
        ("`**code**` is not bold but **this** is", (0, 0, 1)),
        ("# Plan\n```python\n# comment\n- not an item **x**\n```\n- item **y**", (1, 1, 1)),
        ("~~~\n# inside\n```\n# still inside\n~~~\n# out", (1, 0, 0)),
        ("```\n# an unclosed fence hides the rest", (0, 0, 0)),
    ],
)
def test_markdown_counts(text: str, expected: tuple[int, int, int]) -> None:
    assert markdown_counts(text) == MarkdownCounts(*expected)


def test_response_style_adds_the_length_in_characters() -> None:
    style = response_style("## Été\n- **oui**")
    assert (style.length, style.headers, style.list_items, style.bold) == (
        16,
        1,
        1,
        1,
    )  # characters, not UTF-8 bytes (18)
