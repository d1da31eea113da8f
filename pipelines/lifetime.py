"""Child processes that end with the process that started them, however it ends."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for a child process, on Linux: the kernel sends the child SIGTERM when
    its parent dies, however it dies (after a `kill -9` nothing else would stop it). None
    elsewhere. The parent is the thread that starts the child: start it from the main thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up now, not after the fork
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def watch_parent(parent: int, every: float = 1.0) -> None:
    """In a worker process: end it once process `parent` is gone (checked every `every` s by
    a daemon thread). For pools whose workers any thread may start, where the kernel's
    parent-death signal, tied to the starting thread, would end them too early."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
