"""Configure Prefect for quiet, self-contained local runs; import this before `prefect`."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from occupipe.core.lifetime import end_with_parent

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Measured (shared/docs/prefect-notes.md and our own runs): with these, a run on the embedded
# server prints nothing. Task runs are recorded only by a real server (`prefect server start`
# and PREFECT_API_URL); flow runs and their final states are always recorded. Prefect's own
# console output is limited to CRITICAL: the CLI turns every failure into one sentence, and
# `occupipe run --verbose` brings Prefect's logs (tracebacks included) back.
QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "CRITICAL",
}
# The run loggers at INFO: a flow or task run's Logs tab tells its story (pipelines/observe.py)
# while the console handlers above stay at CRITICAL; only Prefect's API handler, attached to
# these two loggers alone, receives the INFO lines. OCCUPIPE_PREFECT_TELEMETRY=off keeps them
# at WARNING, and the artifacts and events unsent.
TELEMETRY = "OCCUPIPE_PREFECT_TELEMETRY"
RUN_LOGS_AT_INFO = {
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
}
VERBOSE = {
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "INFO",
}


def default_prefect_home() -> Path:
    """Prefect's state lives in the project (git-ignored), or in the user's home if installed."""
    if (PROJECT_DIR / "pyproject.toml").exists():
        return PROJECT_DIR / ".prefect"
    return Path.home() / ".occupipe" / "prefect"


def configure_prefect(verbose: bool = False) -> None:
    """Set Prefect's environment defaults; values the user already set win (an empty
    PREFECT_HOME is not set: Prefect would put its database in the working folder)."""
    if not os.environ.get("PREFECT_HOME"):
        os.environ["PREFECT_HOME"] = str(default_prefect_home())
    telemetry = RUN_LOGS_AT_INFO if telemetry_on() else {}
    for name, value in {**QUIET_DEFAULTS, **telemetry, **(VERBOSE if verbose else {})}.items():
        os.environ.setdefault(name, value)


def telemetry_on() -> bool:
    """Whether runs send their summary to Prefect (logs, artifacts, events): unless
    OCCUPIPE_PREFECT_TELEMETRY is off (or 0, false, no)."""
    return os.environ.get(TELEMETRY, "on").strip().lower() not in {"off", "0", "false", "no"}


class ServerFailed(Exception):
    """Prefect's local API server did not come up."""


@contextmanager
def local_api_server(timeout: float = 30.0) -> Iterator[str | None]:
    """Run Prefect's API server for the length of one command, started before Prefect is imported.

    This is what Prefect's ephemeral mode does, started earlier: the server boots on one core
    while this process imports Prefect on the other, instead of one after the other.
    Its log goes to $PREFECT_HOME/server.log. A PREFECT_API_URL set by the user wins.
    """
    if configured_api_url():
        yield None
        return
    home = Path(os.environ["PREFECT_HOME"])
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServerFailed(
            f"PREFECT_HOME {home} cannot be a folder: {exc.strerror or exc}"
        ) from None
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    with (home / "server.log").open("ab") as log:
        process = subprocess.Popen(
            server_command(port),
            env={**os.environ, **SERVER_ENV},
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            preexec_fn=end_with_parent(),
            start_new_session=True,  # Ctrl-C at the terminal stops the run, not its server
        )
        try:
            with api_url_set(url):
                yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def api_url_set(url: str) -> Iterator[None]:
    """PREFECT_API_URL set to `url` for the command (before Prefect is imported), with no UI
    link: our servers serve no UI (no "View at <link>" in --verbose logs; empty = no link)."""
    own_ui_url = "PREFECT_UI_URL" not in os.environ
    os.environ["PREFECT_API_URL"] = url
    if own_ui_url:
        os.environ["PREFECT_UI_URL"] = ""
    try:
        yield
    finally:
        del os.environ["PREFECT_API_URL"]
        if own_ui_url:
            os.environ.pop("PREFECT_UI_URL", None)


def configured_api_url() -> str | None:
    """The API URL the user (or a test harness, once Prefect is imported) has set, if any."""
    if "prefect.settings" in sys.modules:
        from prefect.settings import get_current_settings

        return get_current_settings().api.url
    return os.environ.get("PREFECT_API_URL")


SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}


def server_command(port: int) -> list[str]:
    """The command of our API server on `port`: Prefect's app under uvicorn, as its embedded
    server runs it."""
    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.submodule_search_locations
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    return [
        sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
        "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_server(url: str | None, timeout: float = 30.0) -> None:
    """Block until the API server answers its health check, then warm it up.

    A new server's first API answer is slow (it sets itself up lazily); asking for its version
    here pays that while waiting, not inside the first flow run.
    """
    if url is None:
        configured = configured_api_url()
        if configured:
            check_api(configured)
        return
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                httpx.get(f"{url}/admin/version", timeout=max(1.0, deadline - time.monotonic()))
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    log = Path(os.environ["PREFECT_HOME"]) / "server.log"
    raise ServerFailed(
        f"Prefect's local API server did not start within {timeout:.0f}s (see {log})"
    )


def check_api(url: str, timeout: float = 5.0) -> None:
    """Fail in one sentence when a Prefect API set by the user does not answer its health
    check (Prefect itself would fail later, with a traceback)."""
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError as exc:
        raise ServerFailed(f"cannot reach the Prefect API at {url} ({exc})") from None
    if response.status_code != 200:
        raise ServerFailed(
            f"the Prefect API at {url} answered its health check with HTTP {response.status_code}"
        )
