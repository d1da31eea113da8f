"""The background Prefect server: `occupipe server start|stop|status`, and runs that reuse it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from occupipe.core.layout import RELEASES_DIR
from pipelines.background_server import (
    ServerState,
    installed_prefect,
    is_alive,
    is_our_server,
    read_state,
    terminate,
)
from tests.helpers import DEMO, invoke
from tests.pipelines.test_cli_process import occupipe_run
from tests.servers import free_port

pytestmark = pytest.mark.e2e  # each test boots a server (7-12 s on two cores)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PREFECT_HOME of the test's own; whatever server it records is stopped at the end, by
    its pid, if it is ours."""
    folder = tmp_path / "prefect"
    monkeypatch.setenv("PREFECT_HOME", str(folder))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("OCCUPIPE_PREFECT_SERVER", "background")
    try:
        yield folder
    finally:
        stop_recorded(folder)


def stop_recorded(folder: Path) -> None:
    """Stop the server `folder` records, if it is one of ours."""
    try:
        state = read_state(folder)
    except ValueError:
        return
    if state is not None and is_alive(state.pid) and is_our_server(state):
        terminate(state, grace=5.0)


def record(folder: Path, pid: int, port: int, started: str = "2026-01-01T00:00:00+00:00") -> None:
    """Write a server record by hand (as a crash, a reboot or a recycled pid leaves one)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "pid": pid,
        "port": port,
        "url": f"http://127.0.0.1:{port}/api",
        "started": started,
        "prefect_version": installed_prefect(),
        "prefect_home": str(folder),
    }
    (folder / "server.json").write_text(json.dumps(state))


def recorded(folder: Path) -> ServerState:
    state = read_state(folder)
    assert state is not None
    return state


def test_start_status_and_stop(home: Path) -> None:
    code, out, err = invoke("server", "start")
    assert (code, err) == (0, "")
    state = recorded(home)
    assert is_alive(state.pid) and is_our_server(state)
    assert out.startswith(f"a background Prefect server runs at {state.url} (pid {state.pid}")
    assert out.count("\n") == 1 and "`occupipe server stop` stops it" in out
    assert invoke("server", "start") == (0, out, "")  # the same server, not a second one
    assert invoke("server", "status") == (0, out, "")
    code, out, err = invoke("server", "stop")
    assert (code, err) == (0, "")
    assert out == f"stopped the background Prefect server at {state.url} (pid {state.pid})\n"
    assert not is_alive(state.pid) and not (home / "server.json").exists()
    code, out, _ = invoke("server", "status")
    assert code == 1 and out.startswith("no background Prefect server runs for PREFECT_HOME")


def test_stop_with_no_server_is_a_sentence_and_exit_0(home: Path) -> None:
    code, out, err = invoke("server", "stop")
    assert (code, err) == (0, "")
    assert out == f"no background Prefect server runs for PREFECT_HOME {home}: nothing to stop\n"


def test_a_run_starts_the_server_once_and_the_next_run_reuses_it(
    home: Path, tmp_path: Path
) -> None:
    first = occupipe_run(DEMO, tmp_path, OCCUPIPE_PREFECT_SERVER="background")
    assert first.returncode == 0 and first.stderr == ""
    state = recorded(home)
    notes = [line for line in first.stdout.splitlines() if line.startswith("note:")]
    assert notes == [
        f"note: started a background Prefect server at {state.url} (pid {state.pid}) for this"
        " and later runs; `occupipe server stop` stops it"
    ]
    assert is_alive(state.pid)  # the run has ended; its server has not
    second = occupipe_run(DEMO, tmp_path, "--full-refresh", OCCUPIPE_PREFECT_SERVER="background")
    assert second.returncode == 0 and second.stderr == ""
    assert "note:" not in second.stdout and "inputs 120: loaded 120" in second.stdout
    assert recorded(home) == state


def test_a_stale_record_of_a_server_that_is_gone_is_replaced_in_one_sentence(home: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    dead = int(gone.stdout)
    record(home, dead, free_port())
    code, out, err = invoke("server", "start")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"note: the background Prefect server recorded in {home / 'server.json'} (pid {dead})"
        " is gone: a new one starts"
    )
    assert recorded(home).pid != dead and is_alive(recorded(home).pid)


@pytest.fixture
def foreign(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Another program's HTTP server: (its pid, its port)."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as process:  # fmt: skip
        try:
            wait_for_port(port)
            yield process.pid, port
        finally:
            process.kill()


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answers on port {port}")


def test_a_foreign_process_on_the_recorded_pid_and_port_is_never_stopped(
    home: Path, foreign: tuple[int, int]
) -> None:
    pid, port = foreign
    record(home, pid, port)  # the pid recycled for a program that also listens on the port
    code, out, err = invoke("server", "status")
    problem = (
        f"the pid recorded in {home / 'server.json'} ({pid}) now belongs to another program, not"
        f" to a Prefect server of ours; another program answers on its port {port}"
    )
    assert (code, out, err) == (1, f"{problem}\n", "")
    code, out, err = invoke("server", "stop")
    assert (code, err) == (0, "")
    assert out == f"{problem}; nothing to stop (the record is removed, no process touched)\n"
    assert is_alive(pid) and not (home / "server.json").exists()


def test_a_server_of_ours_that_does_not_answer_fails_the_run_in_one_sentence(
    home: Path, tmp_path: Path
) -> None:
    port = free_port()
    # our server's command line, but nothing listens: a server hung or dying
    hung = [sys.executable, "-c", "import time; time.sleep(120)",
            "prefect.server.api.server:create_app", "--port", str(port)]  # fmt: skip
    with subprocess.Popen(hung) as process:
        try:
            record(home, process.pid, port)
            result = occupipe_run(DEMO, tmp_path, OCCUPIPE_PREFECT_SERVER="background")
            assert result.returncode == 1
            assert result.stderr.startswith(
                f"error: the background Prefect server at http://127.0.0.1:{port}/api"
                f" (pid {process.pid}) does not answer its health check"
            )
            assert result.stderr.count("\n") == 1
            releases = tmp_path / "wh" / RELEASES_DIR
            assert not releases.exists() or not any(releases.iterdir())  # nothing published
            code, out, _ = invoke("server", "stop")  # ours by its command line: stopped
            assert code == 0 and out.startswith("stopped the background Prefect server")
            assert process.wait(timeout=10) is not None
        finally:
            process.kill()


def test_per_run_mode_leaves_no_server_behind(home: Path, tmp_path: Path) -> None:
    result = occupipe_run(DEMO, tmp_path, OCCUPIPE_PREFECT_SERVER="per-run")
    assert result.returncode == 0 and result.stderr == ""
    assert "note:" not in result.stdout and not (home / "server.json").exists()
