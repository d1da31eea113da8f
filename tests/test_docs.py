"""The README's data dictionary is the one the code defines."""

from __future__ import annotations

from pipelines.docs import render_data_dictionary
from pipelines.settings import PROJECT_DIR


def test_readme_data_dictionary_matches_the_table_definitions() -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert render_data_dictionary() in readme, "run: python -m pipelines.docs (and paste)"
