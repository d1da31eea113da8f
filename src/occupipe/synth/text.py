"""Sentences and list items about one role, filled from the word lists by a seeded generator."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from occupipe.synth.words import (
    ADJECTIVES,
    NOUNS,
    PERCENTAGES,
    PERSONA_SENTENCES,
    QUESTIONS,
    SENTENCES,
    VERBS,
    Lexicon,
)


class TextWriter:
    """Assembles sentences, list items and leads about one role from a seeded generator."""

    def __init__(self, rng: random.Random, role: str, lexicon: Lexicon) -> None:
        self.rng = rng
        self.role = role.lower()
        self.lexicon = lexicon

    def pick(self, pool: Sequence[str]) -> str:
        return pool[int(self.rng.random() * len(pool))]

    def pick_other(self, pool: Sequence[str], taken: str) -> str:
        value = self.pick(pool)
        while value == taken:
            value = self.pick(pool)
        return value

    def fill(self, template: str) -> str:
        """Fill a template's slots with words drawn for this role; capitalize the start."""
        return fix_articles(template.format_map(Slots(self)))

    def sentence(self) -> str:
        return self.fill(self.pick(SENTENCES))

    def sentences(self, low: int, high: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def question(self) -> str:
        return self.fill(self.pick(QUESTIONS))

    def bold_lead(self, leads: Sequence[str], low: int = 1, high: int = 3) -> str:
        return f"**{self.fill(self.pick(leads))}** {self.sentences(low, high)}"

    def persona_line(self) -> str:
        return self.fill(self.pick(PERSONA_SENTENCES))


_ARTICLE_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[aeiou])")


def fix_articles(text: str) -> str:
    """Capitalize the first letter and turn "a" into "an" before a vowel."""
    if "a " in text or "A " in text:
        text = _ARTICLE_BEFORE_VOWEL.sub(r"\1n ", text)
    return text[:1].upper() + text[1:]


class Slots(dict[str, str]):
    """A template's slot values, each drawn the first time the template asks for it."""

    def __init__(self, writer: TextWriter) -> None:
        super().__init__(role=writer.role)
        self.writer = writer

    def __missing__(self, key: str) -> str:
        writer, lexicon = self.writer, self.writer.lexicon
        pools = {
            "obj": lexicon.objects,
            "noun": NOUNS,
            "adj": ADJECTIVES,
            "verb": VERBS,
            "person": lexicon.people,
            "pct": PERCENTAGES,
        }
        if key in ("Noun", "Adj"):
            value = self[key.lower()].capitalize()
        elif key in ("obj2", "noun2"):
            value = writer.pick_other(pools[key[:-1]], self[key[:-1]])
        else:
            value = writer.pick(pools[key])
        self[key] = value
        return value
