"""The README's data dictionary is the one the code defines."""

from __future__ import annotations

from occupipe.core.settings import PROJECT_DIR
from occupipe.reporting.dictionary import render_data_dictionary


def test_readme_data_dictionary_matches_the_table_definitions() -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert render_data_dictionary() in readme, (
        "run: python -m occupipe.reporting.dictionary (and paste)"
    )
