"""Fixtures the CLI's tests share: the session's corpus warehouse, as the folder a user names."""

from __future__ import annotations

from pathlib import Path

import pytest

from occupipe.core.runs import RunSummary


@pytest.fixture(scope="module")
def warehouse(corpus_warehouse: tuple[Path, RunSummary]) -> str:
    return str(corpus_warehouse[0])
