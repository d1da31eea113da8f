"""The SOUL Atlas word-counting rule (metrics.md), implemented independently of the site."""

from __future__ import annotations

import re

_FENCED_CODE = re.compile(r"```[\s\S]*?```")
_INLINE_CODE = re.compile(r"`[^`]*`")
_HTML_TAG = re.compile(r"<[^>]+>")
# The rule replaces `# > * _ - |` with spaces, then counts [A-Za-z0-9][A-Za-z0-9'\u2019-]*.
# None of those characters can be part of a word once replaced, so counting words that
# cannot contain them, without the replacement, gives the same number (and is 2x faster).
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\u2019]*")


def count_words(markdown: str) -> int:
    """Count words in a section's markdown the way the SOUL Atlas site does."""
    text = markdown
    if "`" in text:
        text = _INLINE_CODE.sub(" ", _FENCED_CODE.sub(" ", text))
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    return len(_WORD.findall(text))
