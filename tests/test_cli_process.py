"""`occupipe run` as a user runs it: a real process, its own Prefect server, clean output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO

pytestmark = pytest.mark.e2e


def test_a_clean_run_prints_a_summary_and_nothing_on_stderr(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PREFECT_") or key == "PREFECT_HOME"
    }
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    command = [sys.executable, "-m", "pipelines.cli", "run", "--source", str(DEMO)]
    result = subprocess.run(
        [*command, "--warehouse", str(tmp_path / "wh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "inputs 120: loaded 120, quarantined 0, ignored 0" in result.stdout
    assert (tmp_path / "wh" / "occupations.duckdb").exists()
    assert (tmp_path / "prefect" / "server.log").read_text() == ""  # the server stopped quietly
