"""Shared fixtures: the real corpus beside the checkout, and warehouses built from it once."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

# Prefect keeps state under PREFECT_HOME: give the test session its own, before any import.
# A process a test starts (and maybe kills) that imports this module shares it: a folder of
# its own would be left in the temporary directory, its removal at exit never reached.
SESSION_PREFECT_HOME = "OCCUPIPE_TEST_PREFECT_HOME"
if SESSION_PREFECT_HOME not in os.environ:
    os.environ[SESSION_PREFECT_HOME] = tempfile.mkdtemp(prefix="occupipe-prefect-")
    atexit.register(shutil.rmtree, os.environ[SESSION_PREFECT_HOME], True)
os.environ["PREFECT_HOME"] = os.environ[SESSION_PREFECT_HOME]

from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC  # noqa: E402
from occupipe.core.runs import RunOptions, RunSummary  # noqa: E402
from occupipe.core.settings import PROJECT_DIR, find_sql_dir  # noqa: E402
from occupipe.runner.run import run_pipeline  # noqa: E402

CORPUS = PROJECT_DIR.parent / "shared" / "corpus"
SAMPLE = CORPUS / "soul-atlas-sample"
SOULS = SAMPLE / "souls"
SEED = CORPUS / "devops-engineer.seed.json"
DEMO = PROJECT_DIR / "data" / "raw"
REFERENCE_DATE = dt.date(2026, 6, 26)


def copy_records(folder: Path, paths: list[Path]) -> Path:
    """Copy record files into a folder (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, folder / path.name)
    return folder


def copy_sample(folder: Path, count: int = 30) -> Path:
    """The first `count` records of the real sample, copied into a folder."""
    return copy_records(folder, sorted(SOULS.glob("*.json"))[:count])


def is_running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on a published warehouse, read-only."""
    with duckdb.connect(str(warehouse / "occupations.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def parquet_digests(warehouse: Path) -> dict[str, str]:
    """SHA-256 of each published Parquet file of a warehouse (or build) folder, by name."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((warehouse / "parquet").glob("*.parquet"))
    }


def options_for(source: Path | str, warehouse: Path, **overrides: Any) -> RunOptions:
    """Run options for tests: the shipped SQL, the reference date of the site's stats."""
    defaults: dict[str, Any] = {
        "source": source,
        "warehouse_dir": warehouse,
        "sql_dir": find_sql_dir(),
        "as_of": REFERENCE_DATE,
        "sections_spec": DEFAULT_SECTIONS_SPEC,
        "workers": 1,  # in-process by default: fast to start; parallel runs are tested apart
    }
    return RunOptions(**(defaults | overrides))


def build(source: Path | str, warehouse: Path, **overrides: Any) -> RunSummary:
    """Run the pipeline (no Prefect) from a folder into a warehouse folder."""
    return run_pipeline(options_for(source, warehouse, **overrides))


@pytest.fixture(scope="session")
def corpus_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunSummary]:
    """The 182-record sample built once per session: (warehouse folder, run summary)."""
    if not SOULS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {SOULS}")
    warehouse = tmp_path_factory.mktemp("corpus-warehouse")
    return warehouse, build(SOULS, warehouse)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One Prefect test server (a fresh database) for the tests that run flows.

    It records task runs (tests read them back), whatever quiet defaults were set before it
    started: importing `pipelines.flows` turns the recorder off for the CLI's own servers.
    """
    from prefect.settings import (
        PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    os.environ[PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED.name] = "true"
    with (
        temporary_settings(updates={PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED: True}),
        prefect_test_harness(server_startup_timeout=60),
    ):
        yield


# Tests that build the whole real sample or start a Prefect server: `pytest -m "not slow"`
# leaves them out for a fast loop (`make test-fast`); `make test` and CI run everything.
SLOW_FIXTURES = {"corpus_warehouse", "prefect_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as slow every test that uses a slow fixture or runs a flow end to end."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)
