"""The `occupipe` command's entry point (also `python -m pipelines`), light on purpose.

Extraction workers are spawned processes, and a spawned process imports the parent's main
script first: the console script imports only this module, so a worker does not load the CLI
and its libraries (0.3 s and 0.6 CPU-seconds less per pool). For `python -m pipelines`,
multiprocessing skips a package's `__main__` altogether.
"""

from __future__ import annotations


def main() -> None:
    """Run the CLI (imported here, not at the top: see the module's docstring)."""
    from pipelines.cli import main as run_cli

    run_cli()


if __name__ == "__main__":
    main()
