"""The `occupipe` command's entry point (also `python -m pipelines`), light on purpose.

Extraction workers are spawned processes, and a spawned process imports the parent's main
script first: the console script imports only this module, so a worker does not load the CLI
and its libraries (0.3 s and 0.6 CPU-seconds less per pool). For `python -m pipelines`,
multiprocessing skips a package's `__main__` altogether.
"""

from __future__ import annotations

import logging
import os
import sys
import threading


def main() -> None:
    """Run the CLI (imported here, not at the top: see the module's docstring)."""
    from pipelines.cli import main as run_cli

    try:
        run_cli()
    except SystemExit as done:
        if "prefect" in sys.modules and isinstance(done.code, int | None):
            exit_now(done.code or 0)
        raise


def exit_now(code: int) -> None:
    """End a command that loaded Prefect without tearing its 1,500 modules down one by one
    (0.25-0.35 s of a 3 s run, benchmarks/HISTORY.md): output flushed, logs shut down, and only
    when no thread but daemons is left (Prefect's queues are drained by then, every DuckDB
    connection and worker pool closed by its own context manager)."""
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return  # a thread still working: let the interpreter wait for it
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
