"""Why an input is not loaded: a rejected document, or a source that cannot be read at all."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rejection:
    """A document that could not be loaded, with the stage that refused it and why."""

    source_file: str
    stage: str
    reason: str
    content_hash: str | None
    raw: bytes | None = field(default=None, repr=False, compare=False)


class SourceError(Exception):
    """The source as a whole cannot be read (missing folder, unreadable file)."""


def first_line(exc: BaseException) -> str:
    """An error's message as one line: its first, or the error's class name when it has none
    (a third-party error's later lines are its details, for logs, not for a sentence)."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
