"""`occupipe run` as a user runs it: a real process, its own Prefect server, clean output."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import DEMO, is_running

pytestmark = pytest.mark.e2e


def occupipe_run(
    source: Path | str, tmp_path: Path, *options: str, **prefect_settings: str
) -> subprocess.CompletedProcess[str]:
    """`occupipe run` (with `options`) in a fresh process with its own Prefect home (and so
    its own server), and no Prefect setting of ours but `prefect_settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(prefect_settings, PREFECT_HOME=str(tmp_path / "prefect"))
    command = [sys.executable, "-m", "pipelines", "run", "--source", str(source), *options]
    return subprocess.run(
        [*command, "--warehouse", str(tmp_path / "wh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_clean_run_prints_a_summary_and_nothing_on_stderr(tmp_path: Path) -> None:
    result = occupipe_run(DEMO, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "inputs 120: loaded 120, quarantined 0, ignored 0" in result.stdout
    assert (tmp_path / "wh" / "occupations.duckdb").exists()
    assert (tmp_path / "prefect" / "server.log").read_text() == ""  # the server stopped quietly


def test_verbose_shows_prefect_logs_without_a_link_to_a_ui_no_server_serves(
    tmp_path: Path,
) -> None:
    result = occupipe_run(DEMO, tmp_path, "--verbose")
    assert result.returncode == 0, result.stderr
    logs = result.stdout + result.stderr
    assert "Beginning flow run" in logs and "Task run 'publish'" in logs
    assert "View at" not in logs


def children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
def test_a_killed_run_takes_its_prefect_server_with_it(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    command = [sys.executable, "-m", "pipelines", "run", "--source", str(DEMO)]
    with subprocess.Popen(
        [*command, "--warehouse", str(tmp_path / "wh"), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as run:
        deadline = time.monotonic() + 60
        while not (servers := children_of(run.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert servers, "the run started no server"
        run.kill()  # as the OOM killer would: no chance to stop the server itself
    deadline = time.monotonic() + 10
    while any(map(is_running, servers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(is_running, servers))  # gone, or a zombie no one has reaped yet


def test_a_failed_run_prints_one_sentence_and_its_logs_reach_the_server(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "bad.json").write_text("{}")  # every input quarantined: the reject-rate gate fails
    result = occupipe_run(source, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: gate reject_rate failed")
    assert result.stderr.count("\n") == 1, result.stderr  # no "Error logging to API" after it
    assert (tmp_path / "prefect" / "server.log").read_text() == ""
    with contextlib.closing(sqlite3.connect(tmp_path / "prefect" / "prefect.db")) as db:
        logged = db.execute("select message from log where level >= 40").fetchall()
    assert any("gate reject_rate failed" in message for (message,) in logged)


def test_the_entry_point_loads_no_cli_library_so_spawned_workers_start_light() -> None:
    # a spawned extraction worker imports the console script, which imports only this module
    probe = (
        "import sys, pipelines.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'rich', 'duckdb', 'prefect') or m.split('.')[:2] == ['pipelines', 'cli']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
    assert (Path(sys.executable).parent / "occupipe").read_text().count("pipelines.__main__") == 1


def test_a_bad_prefect_setting_ends_in_one_sentence_and_a_usage_exit(tmp_path: Path) -> None:
    result = occupipe_run(DEMO, tmp_path, PREFECT_LOGGING_LEVEL="bogus")
    assert result.returncode == 2
    last = result.stderr.splitlines()[-1]  # Prefect prints its own report of it first
    assert last.startswith("error: a PREFECT_ setting is not valid (LoggingSettings.level:")
    assert "Traceback" not in result.stderr
