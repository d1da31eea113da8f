"""The generator's word lists and sentence templates, read once from the package's data files."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any, NamedTuple


class Lexicon(NamedTuple):
    domains: tuple[str, ...]  # title prefixes
    roles: tuple[str, ...]  # title nouns
    objects: tuple[str, ...]  # what the work is about
    people: tuple[str, ...]  # who the practitioner deals with


def read_data(name: str) -> dict[str, Any]:
    """One TOML file of the package's `data/` directory."""
    text = resources.files("occupipe.synth").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def read_lexicons(data: dict[str, Any]) -> dict[str, Lexicon]:
    """Each category's lexicon, from its table of four word lists."""
    return {
        category: Lexicon(*(tuple(fields[name]) for name in Lexicon._fields))
        for category, fields in data.items()
    }


_WORDS = read_data("words.toml")
_TEMPLATES = read_data("templates.toml")
_HEADINGS = read_data("headings.toml")

LEXICONS = read_lexicons(read_data("lexicons.toml"))

NOUNS: tuple[str, ...] = tuple(_WORDS["nouns"])
ADJECTIVES: tuple[str, ...] = tuple(_WORDS["adjectives"])
VERBS: tuple[str, ...] = tuple(_WORDS["verbs"])
IMPERATIVES: tuple[str, ...] = tuple(_WORDS["imperatives"])
PERCENTAGES: tuple[str, ...] = tuple(_WORDS["percentages"])
HANDLES: tuple[str, ...] = tuple(_WORDS["handles"])
PERSONAS: tuple[str, ...] = tuple(_WORDS["personas"])
PERSONA_TAGS: tuple[str, ...] = tuple(_WORDS["persona_tags"])
LICENSES: tuple[str, ...] = tuple(_WORDS["licenses"])
INITIALS: str = _WORDS["initials"]
SURNAMES: tuple[str, ...] = tuple(_WORDS["surnames"])
CONTRIBUTORS: tuple[str, ...] = tuple(_WORDS["contributors"])
REGIONS: tuple[str, ...] = tuple(_WORDS["regions"])
TOOL_KINDS: tuple[str, ...] = tuple(_WORDS["tool_kinds"])
FILE_SUFFIXES: tuple[str, ...] = tuple(_WORDS["file_suffixes"])

SENTENCES: tuple[str, ...] = tuple(_TEMPLATES["sentences"])
QUESTIONS: tuple[str, ...] = tuple(_TEMPLATES["questions"])
LEADS: tuple[str, ...] = tuple(_TEMPLATES["leads"])
TRADEOFF_LEADS: tuple[str, ...] = tuple(_TEMPLATES["tradeoff_leads"])
SCENARIO_LEADS: tuple[str, ...] = tuple(_TEMPLATES["scenario_leads"])
SHORT_SENTENCES: tuple[str, ...] = tuple(_TEMPLATES["short_sentences"])
PERSONA_SENTENCES: tuple[str, ...] = tuple(_TEMPLATES["persona_sentences"])
TERMS: tuple[str, ...] = tuple(_TEMPLATES["terms"])
CODE_STEP: str = _TEMPLATES["code_step"]
TABLE_HEADER: str = _TEMPLATES["table_header"]
TABLE_CELLS: tuple[str, ...] = tuple(_TEMPLATES["table_cells"])
SUMMARY: str = _TEMPLATES["summary"]
SOURCE_TITLE: str = _TEMPLATES["source_title"]
RELATED_NOTE: str = _TEMPLATES["related_note"]

PERSONA_HEADINGS_NUMBERED: tuple[str, ...] = tuple(_HEADINGS["persona_numbered"])
PERSONA_HEADINGS_FREE: tuple[str, ...] = tuple(_HEADINGS["persona_free"])
RENAMED_HEADINGS: dict[str, str] = dict(_HEADINGS["renamed"])
