"""The canonical section spec: one reader for the pipeline, the warehouse and the generator."""

from __future__ import annotations

import json
from pathlib import Path

from occupipe.contract.sections import (
    DEFAULT_SECTIONS_SPEC,
    CanonicalSection,
    read_canonical_headings,
    read_sections_spec,
)


def test_the_shipped_spec_lists_the_upstream_sections_in_order() -> None:
    upstream = json.loads(DEFAULT_SECTIONS_SPEC.read_text(encoding="utf-8"))["sections"]
    sections = read_sections_spec()
    assert [s.heading for s in sections] == [s["heading"] for s in upstream]
    assert [s.required for s in sections] == [s["required"] for s in upstream]
    assert any(s.min_words > 0 for s in sections)
    assert read_canonical_headings(DEFAULT_SECTIONS_SPEC) == {s.heading for s in sections}


def test_a_section_without_required_or_min_words_is_optional_with_no_minimum(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "sections.json"
    spec.write_text(
        json.dumps(
            {
                "sections": [
                    {"heading": "Overview", "required": True, "minWords": 40},
                    {"heading": "Trivia"},
                ]
            }
        ),
        encoding="utf-8",
    )
    assert read_sections_spec(spec) == (
        CanonicalSection("Overview", True, 40),
        CanonicalSection("Trivia", False, 0),
    )
