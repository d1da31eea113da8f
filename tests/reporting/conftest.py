"""A synthetic warehouse for the docs-site tests: hostile strings, a quarantined input, two runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from occupipe.core.layout import SITE_DIR
from occupipe.synth.corpus import dump_record, generate_records
from tests.helpers import build

HOSTILE = "<script>alert(1)</script> \"&'"
RECORDS = 40


def write_hostile_corpus(folder: Path, count: int) -> Path:
    """`count` synthetic records; the first has a hostile title and tag, too long a title (a
    warning data test shows it among its sample rows); one more file is not JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, record in enumerate(generate_records(count)):
        if i == 0:
            title = f"{HOSTILE} {'x' * 90}"
            record["title"] = record["metadata"]["title"] = title
            record["metadata"]["tags"] = [HOSTILE, *record["metadata"].get("tags", [])]
        (folder / f"{record['slug']}.json").write_bytes(dump_record(record))
    (folder / "broken.json").write_text('{"slug": "broken", ' + json.dumps(HOSTILE))
    return folder


@pytest.fixture(scope="session")
def docs_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of two releases built from the hostile corpus (40, then 41 records)."""
    root = tmp_path_factory.mktemp("docs-site")
    build(write_hostile_corpus(root / "in", RECORDS), root / "wh")
    build(write_hostile_corpus(root / "in", RECORDS + 1), root / "wh")
    return root / "wh"


@pytest.fixture(scope="session")
def site_dir(docs_warehouse: Path) -> Path:
    """The docs site the current release carries."""
    return docs_warehouse / "current" / SITE_DIR


SCREENSHOTS: list[Path] = []  # the browser test's PNGs, listed at the end of the session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the docs site's screenshots (one per page) in the session's summary."""
    if SCREENSHOTS:
        terminalreporter.write_sep("-", f"docs site screenshots: {SCREENSHOTS[0].parent}")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path))
