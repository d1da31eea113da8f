"""Shared fixtures: the real corpus beside the checkout, and warehouses built from it once."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefect keeps state under PREFECT_HOME: give the test session its own, before any import.
# A process a test starts (and maybe kills) that imports this module shares it: a folder of
# its own would be left in the temporary directory, its removal at exit never reached.
SESSION_PREFECT_HOME = "OCCUPIPE_TEST_PREFECT_HOME"
if SESSION_PREFECT_HOME not in os.environ:
    os.environ[SESSION_PREFECT_HOME] = tempfile.mkdtemp(prefix="occupipe-prefect-")
    atexit.register(shutil.rmtree, os.environ[SESSION_PREFECT_HOME], True)
os.environ["PREFECT_HOME"] = os.environ[SESSION_PREFECT_HOME]
# A run with no PREFECT_API_URL starts a server of its own and stops it at its end, as before
# the background server: no test leaves a process behind. tests/pipelines/test_cli_server.py
# tests the background server, each test stopping it by its pid.
os.environ["OCCUPIPE_PREFECT_SERVER"] = "per-run"

from occupipe.core.runs import RunSummary  # noqa: E402
from tests.helpers import SOULS, build, copy_sample  # noqa: E402
from tests.servers import DaskCluster, S3Server, start_dask_cluster, start_s3_server  # noqa: E402


@pytest.fixture(scope="session")
def corpus_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunSummary]:
    """The 182-record sample built once per session: (warehouse folder, run summary)."""
    if not SOULS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {SOULS}")
    warehouse = tmp_path_factory.mktemp("corpus-warehouse")
    return warehouse, build(SOULS, warehouse)


@pytest.fixture(scope="session")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of two releases (30, then 31 sample records), built once per session."""
    root = tmp_path_factory.mktemp("two-releases")
    for count in (30, 31):
        build(copy_sample(root / "in", count), root / "wh")
    return root / "wh"


@pytest.fixture
def small_warehouse(two_releases: Path, tmp_path: Path) -> Path:
    """A copy of `two_releases` of the test's own, to damage at will."""
    return Path(shutil.copytree(two_releases, tmp_path / "wh", symlinks=True))


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
SLOW_FIXTURES = {"corpus_warehouse", "prefect_server", "docs_warehouse"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as slow every test that uses a slow fixture or runs a flow end to end."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS S3 server for the session (its admin port is fixed: one at a time); each
    test uses a prefix of its own. Its address and keys go into this process's environment."""
    server = start_s3_server(tmp_path_factory.mktemp("seaweedfs"))
    saved = {name: os.environ.get(name) for name in server.env}
    os.environ.update(server.env)
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def dask_cluster(
    s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaskCluster]:
    """A Dask scheduler and two single-threaded workers that can reach the S3 server."""
    cluster = start_dask_cluster(tmp_path_factory.mktemp("dask"), 2, s3_server.env)
    try:
        yield cluster
    finally:
        cluster.stop()
