"""Fixtures of the export tests: a small warehouse holding two different releases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import build, copy_sample


@dataclass(frozen=True)
class TwoReleases:
    """A warehouse whose first release holds 30 records of the sample, and whose second (the
    current one) two fewer and one retitled."""

    warehouse: Path
    first: str
    second: str

    def table(self, release_id: str, name: str) -> Path:
        """The published Parquet file of a table in a release."""
        return self.warehouse / "releases" / release_id / "parquet" / f"{name}.parquet"


@pytest.fixture(scope="session")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> TwoReleases:
    """Built once per session (two runs of 30 records: under two seconds)."""
    folder = tmp_path_factory.mktemp("two-releases")
    source, warehouse = copy_sample(folder / "in", 30), folder / "warehouse"
    first = build(source, warehouse).run_id
    records = sorted(source.glob("*.json"))
    for path in records[:2]:
        path.unlink()
    retitled = json.loads(records[2].read_text(encoding="utf-8"))
    retitled["title"] += " (retitled)"
    records[2].write_text(json.dumps(retitled), encoding="utf-8")
    second = build(source, warehouse).run_id
    assert first != second
    return TwoReleases(warehouse, first, second)
