"""`occupipe run` with nothing changed ends before Prefect: no server, the run still recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REFERENCE_DATE, build, copy_sample, invoke, refuse_server


def test_a_run_with_nothing_changed_starts_no_prefect_server_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_sample(tmp_path / "source", 8)
    first = build(source, tmp_path / "w")
    refuse_server(monkeypatch, "a run with nothing changed")
    args = ["run", "--source", str(source), "--warehouse", str(tmp_path / "w")]
    code, out, err = invoke(*args, "--as-of", REFERENCE_DATE.isoformat())
    assert (code, err) == (0, "")
    assert f"nothing changed since release {first.release_id}: it stays current" in out
    assert (tmp_path / "w" / "history.jsonl").read_text().count('"status": "unchanged"') == 1


def test_a_run_with_nothing_changed_does_not_import_prefect(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "source", 4)
    build(source, tmp_path / "w")
    probe = (
        "import sys; from pipelines.cli import main; sys.argv = ['occupipe', 'run', '--source',"
        f" {str(source)!r}, '--warehouse', {str(tmp_path / 'w')!r}, '--as-of',"
        f" {REFERENCE_DATE.isoformat()!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'prefect' not in sys.modules, 'prefect was imported'"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "nothing changed since release" in done.stdout


def test_a_rollback_with_no_prefect_api_in_use_does_not_import_prefect(
    small_warehouse: Path, tmp_path: Path
) -> None:
    probe = (
        "import sys; from pipelines.cli import main; sys.argv = ['occupipe', 'rollback',"
        f" '--warehouse', {str(small_warehouse)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'prefect' not in sys.modules, 'prefect was imported'"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "no-server-here")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("rolled back from ")
