"""A response's style as counts: length in characters and its markdown headers, list items, bold spans.

Raters favour longer and more formatted answers; a style-controlled rating needs these counts per
compared response, and the judgments table carries them so a team can do the same in its own
tools. The rules (CommonMark's, simplified to what a line-by-line scan can tell):

* **headers**: ATX headings, a line of 1-6 ``#`` then a space or the end of the line (up to three
  spaces of indent). Setext underlines (``===``) are not counted.
* **list items**: a line whose first non-blank text is ``-``, ``*`` or ``+`` followed by a space,
  or a number with ``.`` or ``)`` followed by a space (``1. item``); nested items count too. A
  thematic break (``* * *``, ``- - -``) is not an item.
* **bold spans**: ``**text**`` or ``__text__`` within a line, the text starting and ending with a
  non-space character; inline code (`` `...` ``) is left out first.
* code: lines inside fenced code blocks (```` ``` ```` or ``~~~``, to the matching fence or the end)
  count for nothing, since a ``#`` comment in code is not a header.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["MarkdownCounts", "ResponseStyle", "markdown_counts", "response_style"]

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HEADER = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_BOLD = re.compile(r"\*\*(?=\S).+?(?<=\S)\*\*|__(?=\S).+?(?<=\S)__")


class MarkdownCounts(NamedTuple):
    headers: int
    list_items: int
    bold: int


class ResponseStyle(NamedTuple):
    """A response's length in characters and its markdown counts."""

    length: int
    headers: int
    list_items: int
    bold: int


def markdown_counts(text: str) -> MarkdownCounts:
    """Headers, list items and bold spans of a markdown text (rules: module docstring)."""
    headers = items = bold = 0
    fence: str | None = None
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if _HEADER.match(line):
            headers += 1
        elif _ITEM.match(line) and not _BREAK.match(line):
            items += 1
        bold += len(_BOLD.findall(_CODE_SPAN.sub("", line)))
    return MarkdownCounts(headers, items, bold)


def response_style(text: str) -> ResponseStyle:
    """`markdown_counts` with the text's length in characters."""
    return ResponseStyle(len(text), *markdown_counts(text))
