"""The canonical section spec (`sections.json`): each section's heading, whether a record
must have it, and the words it should hold at least."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

DEFAULT_SECTIONS_SPEC = Path(__file__).resolve().with_name("sections.json")


class CanonicalSection(NamedTuple):
    heading: str
    required: bool
    min_words: int


def read_sections_spec(spec: Path = DEFAULT_SECTIONS_SPEC) -> tuple[CanonicalSection, ...]:
    """The canonical sections, in order (`required` and `minWords` may be left out)."""
    data = json.loads(spec.read_text(encoding="utf-8"))
    return tuple(
        CanonicalSection(s["heading"], bool(s.get("required", False)), int(s.get("minWords", 0)))
        for s in data["sections"]
    )


def read_canonical_headings(spec: Path) -> frozenset[str]:
    """The headings of the canonical sections."""
    return frozenset(section.heading for section in read_sections_spec(spec))
