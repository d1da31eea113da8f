"""Progress of a long extraction, reported to whoever listens (the CLI's progress bar)."""

from __future__ import annotations

from collections.abc import Callable

Reporter = Callable[[int, int], None]
_reporters: list[Reporter] = []


def report_progress(done: int, total: int) -> None:
    """Tell every listener how many input files are done out of how many."""
    for reporter in _reporters:
        reporter(done, total)


def listen(reporter: Reporter) -> Callable[[], None]:
    """Start receiving progress; returns the function that stops it."""
    _reporters.append(reporter)
    return lambda: _reporters.remove(reporter)
