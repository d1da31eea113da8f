"""Write a file so that readers only ever see it whole: through a temporary name, then a rename."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path


def write_atomically(target: Path, fill: Callable[[Path], object]) -> None:
    """Write `target` through a temporary file beside it (`fill` writes that), then rename it.

    Readers, and other processes or threads writing the same bytes, only ever see whole files;
    if `fill` fails, the temporary file goes and whatever was at `target` stays.
    """
    partial = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        fill(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def write_bytes_atomically(target: Path, content: bytes) -> None:
    """`write_atomically` for bytes already in memory."""
    write_atomically(target, functools.partial(Path.write_bytes, data=content))
