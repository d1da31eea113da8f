"""One run at a time per warehouse: an OS file lock, released by the kernel if a run dies."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

LOCK_FILE = ".lock"


class RunLocked(Exception):
    """Another run holds the warehouse."""


@contextmanager
def run_lock(warehouse: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's run lock; wait up to `wait_seconds` for another run to finish."""
    warehouse.mkdir(parents=True, exist_ok=True)
    path = warehouse / LOCK_FILE
    with path.open("a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLocked(describe_holder(handle, path)) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S%z')}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_unlocked(warehouse: Path) -> None:
    """Raise `RunLocked` if a run holds the warehouse now (a quick look, before a run starts
    its Prefect server: the answer in a second instead of ten); takes and changes nothing."""
    path = warehouse / LOCK_FILE
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError:
        return  # no lock file (no run yet) or unreadable: the run itself will tell
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(describe_holder(handle, path)) from None
        fcntl.flock(handle, fcntl.LOCK_UN)


def describe_holder(handle: IO[str], path: Path) -> str:
    """Who holds the lock, from what an occupipe run writes in the lock file."""
    handle.seek(0)
    holder = handle.read().strip()
    if holder:
        return f"another run is in progress ({holder})"
    return f"another process holds the warehouse lock {path}"
