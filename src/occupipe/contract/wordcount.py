"""The SOUL Atlas word-counting rule (metrics.md), implemented independently of the site."""

from __future__ import annotations

import re

_FENCED_CODE = re.compile(r"```[\s\S]*?```")
_INLINE_CODE = re.compile(r"`[^`]*`")
_HTML_TAG = re.compile(r"<[^>]+>")
_WORD_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# every byte becomes "a" (a letter or digit) or " " (anything else, every byte of a non-ASCII
# character included); apostrophes are deleted outright
_CLASSIFY = bytes(ord("a") if byte in _WORD_BYTES else ord(" ") for byte in range(256))


def count_words(markdown: str) -> int:
    """Count words in a section's markdown the way the SOUL Atlas site does.

    The rule replaces code, HTML tags and `# > * _ - |` with spaces, then counts tokens
    matching [A-Za-z0-9][A-Za-z0-9'\u2019-]*. Once those characters are spaces, a token is a
    maximal run of letters, digits and apostrophes that holds a letter or digit; deleting the
    apostrophes never joins two runs, so the count is the number of runs of letters and digits
    left: the places where a space is followed by one. Byte-level translate and count run in C,
    about 5x faster than a regular expression that finds every word.
    """
    text = markdown
    if "`" in text:
        text = _INLINE_CODE.sub(" ", _FENCED_CODE.sub(" ", text))
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    raw = text.replace("\u2019", "'").encode("utf-8", "surrogatepass")
    classes = raw.translate(_CLASSIFY, b"'")
    return classes.count(b" a") + classes.startswith(b"a")
