"""Child processes that end with the process that started them, however it ends."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

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


def start_worker(parent: int) -> None:
    """Initializer of a pool worker: deaf to Ctrl-C, and ended once process `parent` is gone.

    A terminal's Ctrl-C reaches the whole process group: a worker that raised
    KeyboardInterrupt printed its traceback, one interrupted while starting printed a fatal
    error. Workers start with the signal held (`sigint_held`) and ignore it from here; the
    parent, which takes the Ctrl-C, drops the batches not yet started and exits.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    watch_parent(parent)


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold Ctrl-C in this thread (sent to it, it arrives once the block ends; sent to the
    process, another thread takes it); processes started inside begin with it held."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def lower_thread_priority(steps: int) -> None:
    """Make the calling thread give way to the process's other threads: its nice value
    `steps` higher (Linux, where each thread has its own; at most 19). Elsewhere, or when
    the system refuses, nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + steps))
