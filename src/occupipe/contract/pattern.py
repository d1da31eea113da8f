"""Translate a pydantic field pattern into a Python regex that matches the same texts."""

from __future__ import annotations

import re
import string

# escapes that mean the same to Rust's regex crate and to Python's re: a quoted punctuation
# character, a control character, the start of the text. Shorthand classes (\d, \w, \s, \b)
# cover different Unicode sets in the two engines, so they are refused.
SAME_ESCAPES = frozenset(string.punctuation) | {"n", "r", "t", "A"}


# the groups whose syntax both engines read alike: plain, non-capturing, named the Python way
SAME_GROUPS = ("(?:", "(?P<")


def python_pattern(pattern: str | re.Pattern[str], rust: bool) -> str:
    """The pattern as msgspec's (Python's) `re.search` must read it to match what pydantic's
    matches; `rust`: pydantic matches a text pattern with Rust's regex crate (a compiled one,
    or any under `regex_engine="python-re"`, with Python's own).

    Rust's `$` is the end of the text; Python's also matches before a final newline, so it
    becomes `\\Z`. A construct the two engines may read differently (inline flags, shorthand,
    Unicode or POSIX classes, class set operations) raises ValueError.
    """
    if isinstance(pattern, re.Pattern):
        if pattern.flags & ~re.UNICODE:
            raise ValueError("a compiled pattern with flags")
        return pattern.pattern
    translated = translate_rust_pattern(pattern) if rust else pattern
    try:
        re.compile(translated)
    except re.error as exc:
        raise ValueError(f"Python cannot compile it: {exc}") from None
    return translated


def translate_rust_pattern(pattern: str) -> str:
    """A Rust regex with each `$` made `\\Z`; ValueError for what is not read alike."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        step = 1
        if char == "\\":
            escaped = pattern[i + 1 : i + 2]
            if escaped not in SAME_ESCAPES:
                raise ValueError(f"the escape \\{escaped} differs between Rust and Python")
            step = 2
        elif in_class:
            if char == "[" or pattern.startswith(("&&", "--", "~~"), i):
                raise ValueError("a nested class or class set operation")
            in_class = char != "]"
        elif char == "[":
            in_class = True
            step = 1 + _leading_literal_length(pattern[i + 1 :])
        elif char == "$":
            out.append(r"\Z")
            i += 1
            continue
        elif pattern.startswith("(?", i) and not pattern.startswith(SAME_GROUPS, i):
            raise ValueError("inline flags or a group syntax Python reads differently")
        out.append(pattern[i : i + step])
        i += step
    return "".join(out)


def _leading_literal_length(rest: str) -> int:
    """How many characters after a class's `[` are taken as written: a negating `^`, then a
    `]` (a literal in both engines when it comes first)."""
    length = 1 if rest.startswith("^") else 0
    return length + 1 if rest[length : length + 1] == "]" else length
