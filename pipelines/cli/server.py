"""`occupipe server start|stop|status`, and the Prefect API server each run or replay uses."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from pipelines.background_server import (
    Found,
    ServerState,
    ensure_server,
    find_server,
    forget,
    locked,
    started_seconds_ago,
    terminate,
    wait_until_healthy,
)
from pipelines.cli.common import EXIT_FAILED, EXIT_OK, fail, say, settings
from pipelines.prefect_setup import (
    ServerFailed,
    api_url_set,
    configure_prefect,
    configured_api_url,
    local_api_server,
    wait_for_server,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Start, stop or show the background Prefect server runs use (with no"
    " PREFECT_API_URL).\n\nExit codes: 0 success (status: a server runs and answers),"
    " 1 failure (status: none runs).",
)

# a new server may migrate its database first: several times the usual start-up, with room
STARTUP_SECONDS = 60.0
ANSWER_SECONDS = 5.0  # a server up for a while answers at once, or something is wrong


def prefect_home() -> Path:
    """The PREFECT_HOME the commands use (the project's `.prefect` unless set)."""
    configure_prefect()
    return Path(os.environ["PREFECT_HOME"])


def describe(state: ServerState) -> str:
    """Where a server runs, since when, and how to stop it."""
    return (
        f"a background Prefect server runs at {state.url} (pid {state.pid}, since"
        f" {state.started}, Prefect {state.prefect_version}) for PREFECT_HOME"
        f" {state.prefect_home}; `occupipe server stop` stops it"
    )


@app.command()
def start() -> None:
    """Start the background Prefect server (if none runs) and wait until it answers."""
    home = prefect_home()
    try:
        reused = ensure_server(home)
    except OSError as exc:
        raise fail(f"cannot start a Prefect server for PREFECT_HOME {home}: {exc}.") from None
    for note in reused.notes:
        say(f"note: {note}")
    if reused.started:
        try:
            wait_until_healthy(reused.state, STARTUP_SECONDS)
        except ServerFailed as exc:
            stop_and_forget(home, reused.state)
            raise fail(f"{exc}; it was stopped.") from None
    say(describe(reused.state))


@app.command()
def stop() -> None:
    """Stop the background Prefect server by its pid (only one this project started)."""
    home = prefect_home()
    with locked(home):
        found = find_server(home)
        if found.state is None or not found.ours:
            if found.problem is not None:
                forget(home)
                say(f"{found.problem}; nothing to stop (the record is removed, no process touched)")
            else:
                say(f"no background Prefect server runs for PREFECT_HOME {home}: nothing to stop")
            return
        terminate(found.state)
        forget(home)
    say(f"stopped the background Prefect server at {found.state.url} (pid {found.state.pid})")


@app.command()
def status() -> None:
    """Say where the background Prefect server runs and how to stop it (exit 1: none runs)."""
    home = prefect_home()
    found = find_server(home)
    if found.state is not None and found.ours and found.problem is None:
        try:
            wait_until_healthy(found.state, ANSWER_SECONDS)
        except ServerFailed as exc:
            raise fail(f"{exc}.") from None
        say(describe(found.state))
        raise typer.Exit(EXIT_OK)
    say(describe_absent(home, found))
    raise typer.Exit(EXIT_FAILED)


def describe_absent(home: Path, found: Found) -> str:
    """Why no usable server runs: none recorded, or the record's problem."""
    if found.problem is None:
        return (
            f"no background Prefect server runs for PREFECT_HOME {home}; the next"
            " `occupipe run` starts one (or `occupipe server start`)"
        )
    stop_it = "; `occupipe server stop` stops it" if found.ours else ""
    return f"{found.problem}{stop_it}"


def stop_and_forget(home: Path, state: ServerState) -> None:
    """Stop a server of ours that failed to come up, and forget it."""
    with locked(home):
        terminate(state)
        forget(home)


@contextmanager
def command_server() -> Iterator[Callable[[], None]]:
    """The Prefect API a run or a replay uses: PREFECT_API_URL if set; else the background
    server (started now if none runs), or with OCCUPIPE_PREFECT_SERVER=per-run a server of the
    command's own. Yields what blocks until that API answers (a failure: ServerFailed)."""
    if configured_api_url():
        yield lambda: wait_for_server(None)
        return
    if settings().prefect_server == "per-run":
        try:
            with local_api_server() as url:
                yield lambda: wait_for_server(url)
        except ServerFailed as exc:  # PREFECT_HOME cannot be a folder
            raise fail(f"{exc}.") from None
        return
    home = Path(os.environ["PREFECT_HOME"])
    try:
        reused = ensure_server(home)
    except OSError as exc:
        raise fail(f"cannot start a Prefect server for PREFECT_HOME {home}: {exc}.") from None
    state = reused.state
    for note in reused.notes:
        say(f"note: {note}")
    if reused.started:
        say(
            f"note: started a background Prefect server at {state.url} (pid {state.pid}) for"
            " this and later runs; `occupipe server stop` stops it"
        )
    fresh = reused.started or started_seconds_ago(state) < STARTUP_SECONDS

    def ready() -> None:
        try:
            wait_until_healthy(state, STARTUP_SECONDS if fresh else ANSWER_SECONDS)
        except ServerFailed:
            if reused.started:
                stop_and_forget(home, state)
            raise

    with api_url_set(state.url):
        yield ready
