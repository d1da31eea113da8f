"""A Prefect API server in the background, started once per PREFECT_HOME and reused by runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from occupipe.core.files import write_bytes_atomically
from pipelines.prefect_setup import SERVER_ENV, ServerFailed, free_port, server_command

STATE_NAME = "server.json"  # under PREFECT_HOME: which server serves it
LOCK_NAME = "server.lock"  # two commands never start two servers for one PREFECT_HOME
LOG_NAME = "server.log"
APP = "prefect.server.api.server:create_app"  # in our server's command line, and in no other's
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL


@dataclass(frozen=True)
class ServerState:
    """What `server.json` records of a background server."""

    pid: int
    port: int
    url: str
    started: str  # ISO 8601, local time with its offset
    prefect_version: str
    prefect_home: str


@dataclass(frozen=True)
class Found:
    """What runs for a PREFECT_HOME: `state` is usable when `ours`; `problem` says what is wrong
    with a record that is not (one sentence, no final stop), `None` when there is no record."""

    state: ServerState | None
    ours: bool
    problem: str | None = None


def installed_prefect() -> str:
    """The installed Prefect's version, read without importing Prefect."""
    return version("prefect")


def state_path(home: Path) -> Path:
    """Where a PREFECT_HOME records its background server."""
    return home / STATE_NAME


def read_state(home: Path) -> ServerState | None:
    """The recorded server, or None; an unreadable record raises ValueError."""
    path = state_path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerState(**data)
    except FileNotFoundError:
        return None
    except (OSError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the background server record {path} is unreadable ({exc})") from None


def write_state(home: Path, state: ServerState) -> None:
    """Record the server, atomically (a reader never sees half a record)."""
    text = json.dumps(asdict(state), indent=2) + "\n"
    write_bytes_atomically(state_path(home), text.encode("utf-8"))


def forget(home: Path) -> None:
    """Remove the record (the server it named is gone or not ours)."""
    state_path(home).unlink(missing_ok=True)


def is_alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (one of ours is reaped here)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child (a server started in this process), now reaped
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, and not ours
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def is_our_server(state: ServerState) -> bool:
    """Whether the recorded pid runs our server's command on the recorded port (a pid the
    system gave to another program since is not ours). Without /proc, only the pid is known."""
    if not Path("/proc/self").exists():
        return True
    try:
        words = Path(f"/proc/{state.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    arguments = [word.decode(errors="replace") for word in words]
    return APP in arguments and f"--port\0{state.port}" in "\0".join(arguments)


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether anything answers HTTP at `url`'s health check."""
    import httpx

    try:
        httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return True


def find_server(home: Path) -> Found:
    """The background server recorded for `home`, checked: is it there, and is it ours?"""
    try:
        state = read_state(home)
    except ValueError as exc:
        return Found(None, False, str(exc))
    if state is None:
        return Found(None, False)
    if state.prefect_home != str(home):
        problem = f"the background server record {state_path(home)} is for {state.prefect_home}"
        return Found(state, False, problem)
    if not is_alive(state.pid):
        problem = f"the background Prefect server recorded in {state_path(home)} (pid {state.pid})"
        return Found(state, False, f"{problem} is gone{foreign_on_port(state)}")
    if not is_our_server(state):
        problem = (
            f"the pid recorded in {state_path(home)} ({state.pid}) now belongs to another"
            f" program, not to a Prefect server of ours{foreign_on_port(state)}"
        )
        return Found(state, False, problem)
    if state.prefect_version != installed_prefect():
        problem = (
            f"the background Prefect server (pid {state.pid}) runs Prefect"
            f" {state.prefect_version}, this occupipe {installed_prefect()}"
        )
        return Found(state, True, problem)
    return Found(state, True)


def foreign_on_port(state: ServerState) -> str:
    """A clause for a record that is not ours: whatever answers on its port is left alone."""
    if answers(state.url):
        return f"; another program answers on its port {state.port}"
    return ""


@contextlib.contextmanager
def locked(home: Path) -> Iterator[None]:
    """One command at a time inspects, starts or stops the server of `home`."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def spawn(home: Path) -> ServerState:
    """Start the server, detached: a session of its own, no parent-death signal, no Popen
    object (the command may end long before the server does); its log in server.log."""
    port = free_port()
    command = server_command(port)
    env = {**os.environ, **SERVER_ENV, "PREFECT_HOME": str(home)}
    for name in ("PREFECT_API_URL", "PREFECT_UI_URL"):
        env.pop(name, None)
    log = str(home / LOG_NAME)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    pid = os.posix_spawn(command[0], command, env, file_actions=actions, setsid=True)
    state = ServerState(
        pid=pid,
        port=port,
        url=f"http://127.0.0.1:{port}/api",
        started=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        prefect_version=installed_prefect(),
        prefect_home=str(home),
    )
    write_state(home, state)
    return state


def terminate(state: ServerState, grace: float = STOP_GRACE) -> None:
    """Stop a server of ours by its pid: SIGTERM, then SIGKILL after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while is_alive(state.pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        time.sleep(0.05)


@dataclass(frozen=True)
class Reused:
    """The server a command uses: its record, and whether this command started it."""

    state: ServerState
    started: bool
    notes: list[str]


def ensure_server(home: Path) -> Reused:
    """The background server of `home`: the running one, or one started now (a record of a
    server that is gone or not ours is replaced, and said so; one of another Prefect version
    is stopped and replaced)."""
    with locked(home):
        found = find_server(home)
        if found.ours and found.problem is None and found.state is not None:
            return Reused(found.state, started=False, notes=[])
        notes = []
        if found.problem is not None:
            notes.append(f"{found.problem}: a new one starts")
            if found.ours and found.state is not None:
                terminate(found.state)
        forget(home)
        return Reused(spawn(home), started=True, notes=notes)


def wait_until_healthy(state: ServerState, timeout: float) -> None:
    """Block until the server answers its health check and says its version; a failure is
    one sentence (ServerFailed)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(state.pid):
            break
        try:
            if httpx.get(f"{state.url}/health", timeout=1.0).status_code == 200:
                remaining = max(1.0, deadline - time.monotonic())
                httpx.get(f"{state.url}/admin/version", timeout=remaining).raise_for_status()
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    log = Path(state.prefect_home) / LOG_NAME
    where = f"the background Prefect server at {state.url} (pid {state.pid})"
    if not is_alive(state.pid):
        raise ServerFailed(f"{where} ended before it answered (see {log}); the next run starts one")
    raise ServerFailed(
        f"{where} does not answer its health check (see {log}); `occupipe server stop` stops it"
    )


def started_seconds_ago(state: ServerState) -> float:
    """How long ago the server was started (large if the record's time is unreadable)."""
    try:
        started = dt.datetime.fromisoformat(state.started)
    except ValueError:
        return float("inf")
    return (dt.datetime.now().astimezone() - started).total_seconds()
