"""The SOUL Atlas word-counting rule (metrics.md), implemented independently of the site."""

from __future__ import annotations

import re

_FENCED_CODE = re.compile(r"```[\s\S]*?```")
_INLINE_CODE = re.compile(r"`[^`]*`")
_HTML_TAG = re.compile(r"<[^>]+>")
_MARKUP_CHARS = re.compile(r"[#>*_\-|]")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\u2019-]*")


def count_words(markdown: str) -> int:
    """Count words in a section's markdown the way the SOUL Atlas site does."""
    text = _FENCED_CODE.sub(" ", markdown)
    text = _INLINE_CODE.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _MARKUP_CHARS.sub(" ", text)
    return sum(1 for _ in _WORD.finditer(text))
