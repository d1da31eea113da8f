"""The word-counting rule of metrics.md, case by case and against the site's own counts."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from occupipe.contract.wordcount import count_words
from tests.helpers import SEED, SOULS


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("", 0),
        ("one two three", 3),
        ("## Heading\n\nBody text.", 3),
        ("well-known", 2),  # hyphens are separators
        ("don't stop", 2),
        ("it\u2019s fine", 2),  # curly apostrophe stays inside the word
        ("- item one\n- item two", 4),
        ("**bold** and _italic_", 3),
        ("| a | b |\n|---|---|", 2),
        ("> quoted words here", 3),
        ("text `inline code here` text", 2),
        ("before\n```python\nx = 1\nprint(x)\n```\nafter", 2),
        ("<br/>tag<span class='x'>inner</span>", 2),
        ("3.5 percent, 42", 4),  # the dot splits the number
        ("'quoted' word", 2),  # a token must start with a letter or digit
        ("... --- ***", 0),
    ],
)
def test_count_words_follows_the_site_rule(markdown: str, expected: int) -> None:
    assert count_words(markdown) == expected


def test_count_words_matches_every_stated_count_in_the_corpus() -> None:
    paths = [*sorted(SOULS.glob("*.json")), SEED]
    mismatches = [
        (path.name, section["heading"])
        for path in paths
        for section in json.loads(path.read_text())["sections"]
        if count_words(section["markdown"]) != section["wordCount"]
    ]
    assert len(paths) == 183
    assert mismatches == []


def count_words_as_written(markdown: str) -> int:
    """metrics.md's rule, step by step, as the reference for the fast implementation."""
    text = re.sub(r"```[\s\S]*?```", " ", markdown)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[#>*_\-|]", " ", text)
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'\u2019-]*", text))


@given(st.text(alphabet=st.sampled_from("ab9 \n'\u2019-#>*_|`<>.é\u00a0\t"), max_size=60))
def test_count_words_agrees_with_the_rule_as_written(markdown: str) -> None:
    assert count_words(markdown) == count_words_as_written(markdown)
